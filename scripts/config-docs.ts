// npm run docs: regenerates docs/configuration.md from the config schema and the comments in
// config/example.yaml. `--check`: exit 1, changing nothing, when the file is stale or a key has
// no comment (what the unit test checks too).
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { buildConfigReference, formatMarkdown } from './lib/config-reference.js';

const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } });
const EXAMPLE = new URL('../config/example.yaml', import.meta.url);
const REFERENCE = new URL('../docs/configuration.md', import.meta.url);

const built = buildConfigReference(await readFile(EXAMPLE, 'utf8'));
const { undocumented } = built;
const markdown = await formatMarkdown(built.markdown);
if (undocumented.length > 0)
  process.stderr.write(
    `config/example.yaml has no comment on: ${undocumented.join(', ')}\n` +
      'add each key (commented out if it should not be set by default) with "# what it means (default …)"\n',
  );
const current = await readFile(REFERENCE, 'utf8').catch(() => '');
if (values.check) {
  if (current !== markdown) process.stderr.write('docs/configuration.md is stale: run npm run docs\n');
  process.exit(current === markdown && undocumented.length === 0 ? 0 : 1);
}
if (current !== markdown) await writeFile(REFERENCE, markdown);
process.stdout.write(`docs/configuration.md ${current === markdown ? 'unchanged' : 'written'}\n`);
process.exit(undocumented.length === 0 ? 0 : 1);
