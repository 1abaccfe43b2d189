// The supported runtime in one place: package.json's engines. The image's Node and the Node
// running these tests are within it; Node 20 (EOL) still works, 24 LTS is what ships.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { satisfiesEngines } from '../../scripts/lib/dev-prerequisites.js';

const read = (path: string) => readFile(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('supported Node versions', () => {
  it('engines admits 20.19+ and 24, nothing older or newer', async () => {
    const engines = (JSON.parse(await read('package.json')) as { engines: { node: string } }).engines.node;
    for (const ok of ['20.19.0', '20.20.2', '22.12.0', '24.0.0', '24.22.3'])
      expect(satisfiesEngines(ok, engines), ok).toBe(true);
    for (const no of ['18.20.4', '20.18.3', '25.0.0', '26.1.0'])
      expect(satisfiesEngines(no, engines), no).toBe(false);
    expect(satisfiesEngines(process.versions.node, engines)).toBe(true);
  });

  it('the image is built and run on Node 24 LTS', async () => {
    const dockerfile = await read('Dockerfile');
    expect(/^ARG NODE_VERSION=(\d+)$/m.exec(dockerfile)?.[1]).toBe('24');
    expect(dockerfile.match(/^FROM node:\$\{NODE_VERSION\}-/gm)).toHaveLength(2);
  });
});
