import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { HarnessError } from '../src/errors.js';
import { mcnemarExact } from '../src/report/compare.js';
import { commandStarting, comparePValue, fillOutputs, paperTableShape, quickstartBlocks, summaryLine } from '../tools/quickstart-readme.js';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

test('the README quickstart holds the agreed commands, in the order a user runs them', () => {
  const blocks = quickstartBlocks(README);
  assert.deepEqual(
    blocks.map((b) => b.name),
    ['export', 'data-check', 'run', 'report', 'compare'],
  );
  const all = blocks.flatMap((b) => b.commands);
  assert.equal(all.filter((c) => c.startsWith('mlama export ')).length, 3);
  assert.equal(all.filter((c) => c.startsWith('mlama run ')).length, 3);
  assert.equal(commandStarting(blocks, 'mlama report --runs'), 'mlama report --runs mbert:word,xlmr:word,mluke:word,mluke:entity');
  assert.equal(commandStarting(blocks, 'mlama compare '), 'mlama compare mluke:entity xlmr:word');
  // Every marked block has an output block for make quickstart --fill.
  for (const b of blocks) assert.match(README, new RegExp(`<!-- output: ${b.name}( trim)? -->`), b.name);
});

test('quickstart blocks: continuations joined, comments dropped; a marker without a sh block is one line naming it', () => {
  const md = ['# x', '<!-- quickstart: a -->', '', '```sh', '# setup', 'mlama run --model m \\', '  --data d', '', 'mlama runs', '```'].join('\n');
  assert.deepEqual(quickstartBlocks(md, 'R.md'), [{ name: 'a', line: 2, commands: ['mlama run --model m --data d', 'mlama runs'] }]);
  assert.throws(
    () => quickstartBlocks('<!-- quickstart: a -->\n```text\nx\n```', 'R.md'),
    (e: HarnessError) => /R\.md:1: .* must be followed by a ```sh block/.test(e.message),
  );
  assert.throws(() => quickstartBlocks('no blocks', 'R.md'), /R\.md: no quickstart blocks/);
});

test('fillOutputs replaces only the named output blocks, and a trim block keeps the first 2 lines and the last of each long output', () => {
  const md = [
    '<!-- output: a -->',
    '```text',
    'old',
    'older',
    '```',
    '<!-- output: b trim -->',
    '```text',
    'x',
    '```',
    '<!-- output: c -->',
    '```text',
    'keep',
    '```',
  ];
  const long = Array.from({ length: 9 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
  const got = fillOutputs(md.join('\n'), { a: [{ command: 'mlama runs', output: 'new\n' }], b: [{ command: 'mlama run', output: long }] });
  assert.equal(
    got,
    [
      ...['<!-- output: a -->', '```text', '$ mlama runs', 'new', '```'],
      ...['<!-- output: b trim -->', '```text', '$ mlama run', 'line 1', 'line 2', '[... 6 lines]', 'line 9', '```'],
      ...['<!-- output: c -->', '```text', 'keep', '```'],
    ].join('\n'),
  );
});

test('the summary reads the multi-run table and the compare JSON; without an overall p it pools the discordant pairs', () => {
  assert.deepEqual(paperTableShape({ table: { languages: ['ar', 'en'], columns: [{}, {}, {}, {}] } }), { languages: 2, columns: 4 });
  assert.throws(() => paperTableShape({ runs: [] }), /table\.languages/);
  assert.equal(comparePValue({ p_value: 0.25, deltas: [] }), 0.25);
  const deltas = [
    { language: 'ar', a_only: 3, b_only: 9 },
    { language: 'en', a_only: 1, b_only: 7 },
  ];
  assert.equal(comparePValue({ deltas }), mcnemarExact(4, 16));
  assert.throws(() => comparePValue({ deltas: [{ language: 'ar' }] }), /a_only/);
  assert.equal(
    summaryLine(9, 3, { languages: 4, columns: 4 }, 'mluke:entity vs xlmr:word', 0.012345),
    'quickstart: 9 README commands ran; exported 3 models; paper table 4 x 4; compare mluke:entity vs xlmr:word p=0.0123',
  );
});
