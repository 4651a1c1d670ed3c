import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { HarnessError } from '../src/errors.js';
import {
  count,
  identityKeys,
  readStored,
  RUN_OPTIONS,
  runDifferences,
  scorerSettings,
  storedOptions,
  withStoredOptions,
  type OptionTable,
} from '../src/run/config.js';
import { declareOptions } from '../src/cli/io.js';

// The run configuration is one table: commander options, stored options, resume and the comparable identity all
// follow from it. These tests build tables and call the pure functions, with no dataset or model.

const fingerprints = { checkpoint: { weights: 'w' }, dataset: { en: 'd' } };
const base = { languages: ['en'], styles: ['word'], templates: 'main', fallback: false };

test('a comparable option added to the table alone makes runs differing in it refuse resume, merge and compare', () => {
  const table: OptionTable = {
    ...RUN_OPTIONS,
    draw: { flags: '--draw <n>', help: 'prompt sampling seed', parse: count('--draw'), default: 1, identity: 'comparable', stored: 'number' },
  };
  const a = { options: storedOptions({ ...base, draw: 1 }, table), ...fingerprints };
  const b = { options: storedOptions({ ...base, draw: 2 }, table), ...fingerprints };
  for (const purpose of ['resume', 'merge', 'compare'] as const) {
    assert.deepEqual(runDifferences(purpose, a, b, table), ['draw: 1 vs 2'], purpose);
    // The shipped table does not know the option: the same pair is the same run.
    assert.deepEqual(runDifferences(purpose, a, b), [], purpose);
  }
  // --resume NAME takes it back from the stored run, through its parser; given again, the given value stays.
  assert.equal(withStoredOptions('r', a.options, { ...base, draw: undefined as number | undefined, given: [] }, table).draw, 1);
  assert.equal(withStoredOptions('r', a.options, { ...base, draw: 5, given: ['draw'] }, table).draw, 5);
  // And the command gets its flag, parser and default from the same entry.
  const cmd = declareOptions(new Command('run').exitOverride(), table);
  assert.equal(cmd.parse(['--draw', '7'], { from: 'user' }).opts().draw, 7);
  assert.equal(declareOptions(new Command('run').exitOverride(), table).parse([], { from: 'user' }).opts().draw, 1);
  assert.throws(
    () => declareOptions(new Command('run').exitOverride(), table).parse(['--draw', 'x'], { from: 'user' }),
    /--draw: expected a positive integer, got "x"/,
  );
});

test('an option that only a resume must keep (the shard) sets shards of one run apart for resume, not for merge or compare', () => {
  const a = { options: storedOptions({ ...base, shard: { index: 0, count: 2 } }), ...fingerprints };
  const b = { options: storedOptions({ ...base, shard: { index: 1, count: 2 } }), ...fingerprints };
  assert.equal(a.options.shard, '0/2');
  assert.deepEqual(runDifferences('resume', a, b), ['shard: "0/2" vs "1/2"']);
  assert.deepEqual(runDifferences('merge', a, b), []);
  assert.deepEqual(runDifferences('compare', a, b), []);
  // The keys come from the table (an option added there needs no edit here); the ones that choose the questions
  // must be among them.
  const declared = (ids: readonly string[]) =>
    Object.keys(RUN_OPTIONS).filter((k) => ids.includes(String(RUN_OPTIONS[k as keyof typeof RUN_OPTIONS].identity)));
  assert.deepEqual(identityKeys('compare'), declared(['comparable']));
  assert.deepEqual(identityKeys('resume'), declared(['comparable', 'resume']));
  const questions = ['languages', 'relations', 'styles', 'limit', 'sample', 'seed', 'templates', 'fallback', 'protocol'];
  assert.deepEqual(
    identityKeys('compare').filter((k) => questions.includes(k)),
    questions,
  );
  assert.ok(['precision', 'shard'].every((k) => identityKeys('resume').includes(k)) && !identityKeys('compare').includes('shard'));
});

test('a run stored before an option existed ran as its default: it resumes as float32 and refuses int8', () => {
  const now = { options: storedOptions({ ...base, precision: 'float32' }), ...fingerprints };
  const { precision, ...older } = now.options;
  assert.equal(precision, 'float32');
  const before = { ...now, options: older };
  const int8 = { ...now, options: storedOptions({ ...base, precision: 'int8' }) };
  assert.deepEqual(runDifferences('resume', before, now), []);
  assert.deepEqual(runDifferences('resume', before, int8), ['precision: "float32" vs "int8"']);
  // Precision is for a resume to keep; a compare of float32 and int8 is what users want, and a merge is refused by the
  // checkpoint fingerprint, which hashes the int8 graph (test/int8.test.ts).
  assert.deepEqual(runDifferences('compare', now, int8), []);
  assert.deepEqual(runDifferences('merge', now, int8), []);
});

test('every identity option is stored, has a parser or is a switch, and its default reads back through its own parser', () => {
  for (const [key, s] of Object.entries(RUN_OPTIONS as OptionTable)) {
    if (s.identity === null) continue;
    assert.ok(s.stored, `${key} is part of a run's identity, so it must be stored`);
    assert.ok(s.parse || s.stored === 'boolean', `${key} has a parser`);
    assert.ok('default' in s || s.parse, `${key} has a default (undefined: everything)`);
    if (s.default !== undefined) assert.deepEqual(readStored(key, s, storedOptions({ [key]: s.default }, { [key]: s })[key]), s.default, key);
  }
});

test("every option's key is the name commander gives its flag, so a parsed command is the typed options", () => {
  const cmd = declareOptions(new Command('run'), RUN_OPTIONS);
  const names = cmd.options.filter((o) => !o.negate).map((o) => o.attributeName());
  assert.deepEqual(names, Object.keys(RUN_OPTIONS));
});

test('a stored value is checked like a typed one: a bad one is refused in one line naming the run and the option', () => {
  const stored = { ...storedOptions(base), limit: 0 };
  assert.throws(
    () => withStoredOptions('r', stored, { given: [] }),
    (e: Error) =>
      e instanceof HarnessError && /^cannot resume "r": its stored options are invalid \(--limit: expected a positive integer, got "0"\)$/.test(e.message),
  );
  for (const [field, value, why] of [
    ['languages', ['en', 'en'], /--languages lists "en" twice/],
    ['languages', 'en', /stored option languages must be a list of strings, got "en"/],
    ['templates', 'some', /--templates must be main or all, got "some"/],
    ['fallback', 'yes', /stored option fallback must be a boolean/],
    ['shard', '2/2', /--shard must be I\/N with 0 <= I < N, got "2\/2"/],
  ] as const)
    assert.throws(() => withStoredOptions('r', { ...storedOptions(base), [field]: value }, { given: [] }), why, field);
  // Given again, the stored value is not read: the given one stands (and a difference is refused later, by name).
  assert.equal(withStoredOptions('r', stored, { limit: 3, given: ['limit'] }).limit, 3);
});

test('commands are plain functions: they throw typed errors and never set the exit code themselves', async () => {
  const { runsCommand } = await import('../src/cli/commands/runs.js');
  const io = { out: () => {}, err: () => {}, tty: false };
  await assert.rejects(
    runsCommand({ db: 'unused.sqlite', format: 'yaml' }, io),
    (e: Error) => e instanceof HarnessError && e.exitCode === 2 && /--format must be table or json, got "yaml"/.test(e.message),
  );
  // Only main() turns outcomes into exit codes; the one exception is the second Ctrl-C, which must abort at once.
  const { readdirSync, readFileSync } = await import('node:fs');
  const dir = new URL('../src/cli/commands/', import.meta.url);
  const exits = readdirSync(dir).flatMap((f) =>
    readFileSync(new URL(f, dir), 'utf8')
      .split('\n')
      .filter((l) => /process\.exit/.test(l))
      .map((l) => `${f}: ${l.trim()}`),
  );
  assert.deepEqual(exits, ["runs.ts: if (sig === 'SIGINT') process.exit(130);"]);
});

test("the scorer's settings come from the options' entries: defaults, given values, and an option added to the table alone", () => {
  assert.deepEqual(scorerSettings({}), { topK: 10, batchSize: 64, tokenBudget: 4096 });
  assert.deepEqual(scorerSettings({ protocol: 'authors-script', batchSize: 8, tokenBudget: 512, threads: 2 }), { topK: 100, batchSize: 8, tokenBudget: 512 });
  const table: OptionTable = {
    ...RUN_OPTIONS,
    keep: {
      flags: '--keep <n>',
      help: 'predictions stored per answer',
      parse: count('--keep'),
      identity: null,
      stored: 'number',
      scorer: (topK: number) => ({ topK }),
    },
  };
  assert.equal(scorerSettings({ keep: 3 }, table).topK, 3);
  assert.equal(scorerSettings({ protocol: 'authors-script' }, table).topK, 100);
});
