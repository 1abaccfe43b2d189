// docs/configuration.md stays what `npm run docs` generates from the schema and the example's
// comments, and every key of the schema has a meaning in config/example.yaml.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  buildConfigReference,
  exampleComments,
  formatMarkdown,
  referenceRows,
  typeName,
} from '../../scripts/lib/config-reference.js';

const read = (path: string) => readFile(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('configuration reference', () => {
  it('docs/configuration.md is current (else: npm run docs) and every schema key has a comment', async () => {
    const built = buildConfigReference(await read('config/example.yaml'));
    const { undocumented } = built;
    const markdown = await formatMarkdown(built.markdown);
    expect(undocumented, 'add a "# meaning" comment to these keys in config/example.yaml').toEqual([]);
    expect(await read('docs/configuration.md'), 'docs/configuration.md is stale: run npm run docs').toBe(
      markdown,
    );
    // Each documented key is a row, with its default from the schema.
    expect(built.markdown).toContain('| `target.swapGrace` | duration | `"10s"` | how long sessions');
    expect(built.markdown).toContain('| `source.s3.bucket` | string | **required** |');
  });

  it('reads meanings from live and commented-out lines, nested by indentation, "#" in quotes kept', () => {
    const comments = exampleComments(
      [
        'source: # where backups are',
        '  s3:',
        "    keyPattern: '#x' # regex with a # inside quotes",
        '  # local: # a directory instead',
        '  #   path: /b/*.dump # the newest file',
        '  maxAge: 8d # too old: refuse',
        '# Durations: prose, not a key of the schema',
        'workDir: /w # temp files',
      ].join('\n'),
    );
    expect(Object.fromEntries(comments)).toEqual({
      source: 'where backups are',
      'source.s3.keyPattern': 'regex with a # inside quotes',
      'source.local': 'a directory instead',
      'source.local.path': 'the newest file',
      'source.maxAge': 'too old: refuse',
      workDir: 'temp files',
    });
  });

  it('a schema key without a comment is reported as undocumented', () => {
    const rows = referenceRows(
      {
        type: 'object',
        properties: {
          a: { type: 'string', default: 'x' },
          b: { type: 'object', properties: { c: { type: 'integer' } }, required: ['c'] },
        },
        required: ['b'],
      },
      new Map([['a', 'the a']]),
    );
    expect(rows.map((row) => [row.path, row.required, row.meaning])).toEqual([
      ['a', false, 'the a'],
      ['b', true, undefined],
      ['b.c', true, undefined],
    ]);
    expect(typeName({ type: 'array', items: { enum: ['read', 'write'] } })).toBe('list of read | write');
    expect(typeName({ type: 'string', format: 'duration' })).toBe('duration');
  });
});
