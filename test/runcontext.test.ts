import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { generateCheckpoint } from '../src/checkpoint-gen/generate.js';
import { openRunContext } from '../src/run/context.js';
import { evaluate, runContext } from '../src/run/evaluate.js';
import { runScoring } from '../src/run/execute.js';
import { headWidths } from '../src/model/checkpoint.js';
import { openStore } from '../src/store/db.js';
import { answerKey, planRun } from '../src/run/plan.js';
import { cli, SAMPLE_DATA, sampleCopy, tempDir } from './support/cli.js';
import { tinyCheckpoint } from './support/fixtures.js';
import { storedRun } from './support/rows.js';

// One load (openRunContext), one pure plan (planRun), and what a run stores of its styles.

const ck = tinyCheckpoint(1, false, SAMPLE_DATA);
const madeFamilies = new Map<string, string>();
function familyCheckpoint(family: 'xlmr' | 'bert'): string {
  let dir = madeFamilies.get(family);
  if (!dir) {
    dir = join(tempDir('mlama-ck-'), family);
    generateCheckpoint({ family, preset: 'tiny', out: dir, seed: 1, data: SAMPLE_DATA, entityAware: false });
    madeFamilies.set(family, dir);
  }
  return dir;
}

const run = (db: string, ...args: string[]) => cli('run', '--data', SAMPLE_DATA, '--model', ck, '--threads', '1', '--db', db, ...args);

function runCount(db: string): number {
  if (!existsSync(db)) return 0;
  const raw = new Database(db, { readonly: true });
  try {
    return (raw.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'runs'").get() as { n: number }).n
      ? (raw.prepare('SELECT COUNT(*) AS n FROM runs').get() as { n: number }).n
      : 0;
  } finally {
    raw.close();
  }
}

/** A copy of a bundled style under another file, with some fields changed. */
function styleFile(from: string, change: Record<string, unknown>, file = `${from}-copy.json`): string {
  const path = join(tempDir(), file);
  const j = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'prompts', `${from}.json`), 'utf8'));
  writeFileSync(path, JSON.stringify({ ...j, ...change }, null, 2));
  return path;
}

test('the plan counts what the run stores, per language, and a shard owns its part of every query', async () => {
  const ctx = openRunContext({ data: SAMPLE_DATA, model: ck, styles: ['word', 'entity'], selection: { limit: 3, fallback: false }, hold: true });
  const plan = planRun(ctx, new Set());
  const db = join(tempDir(), 'plan.sqlite');
  const r = await run(db, '--styles', 'word,entity', '--limit', '3', '--name', 'p');
  assert.equal(r.code, 0, r.err);
  const { rows, planned } = storedRun(db, 'p');
  assert.equal(plan.planned, rows.length);
  assert.equal(planned, rows.length);
  for (const [lang, t] of plan.totals) assert.equal(t.total, rows.filter((x) => x.language === lang).length, lang);
  // A resume's plan: what is stored is done.
  const done = new Set(rows.slice(0, 10).map((x) => JSON.stringify([x.style, x.language, x.relation, x.template, x.subject])));
  assert.equal(
    [...planRun(ctx, done).totals.values()].reduce((a, t) => a + t.done, 0),
    10,
  );
  // Two shards split the queries without overlap or gap.
  const parts = [0, 1].map((index) => planRun(ctx, new Set(), { index, count: 2 }));
  assert.equal(parts[0].planned + parts[1].planned, plan.planned);
  assert.ok(parts[0].planned > 0 && parts[1].planned > 0);
  for (const key of parts[0].shard!.owned) assert.equal(parts[1].owns(key), false, key);
  assert.equal(answerKey('word', { language: 'en', relation: 'P19', template: 't', subject: 's' } as never), JSON.stringify(['word', 'en', 'P19', 't', 's']));
});

test('two styles with one name are refused before anything is planned or stored', async () => {
  const db = join(tempDir(), 'dup.sqlite');
  const mine = styleFile('entity', { description: 'mine' });
  const r = await run(db, '--styles', `entity,${mine}`, '--limit', '2');
  assert.equal(r.code, 2, r.out + r.err);
  assert.match(r.err, /--styles: "entity" and ".*entity-copy\.json" are both named "entity"/);
  assert.equal(r.err.trim().split('\n').length, 1, r.err);
  assert.equal(runCount(db), 0, 'no failed run left behind');
});

test('a style file edited after a run: resume, compare and merge refuse the pair, naming the style', async () => {
  const db = join(tempDir(), 'edit.sqlite');
  const mine = styleFile('word', { name: 'mine' });
  assert.equal((await run(db, '--styles', mine, '--limit', '2', '--languages', 'en', '--name', 'before')).code, 0);
  writeFileSync(mine, JSON.stringify({ ...JSON.parse(readFileSync(mine, 'utf8')), head: 'entity', entity_inputs: true }));
  const resumed = await run(db, '--resume', 'before');
  assert.equal(resumed.code, 2, resumed.out + resumed.err);
  assert.match(resumed.err, /cannot resume "before": it was run with different inputs \(.*style "mine" head: "word" vs "entity"/);
  assert.match(resumed.err, /style "mine" hash: "[0-9a-f]{16}" vs "[0-9a-f]{16}"/);
  assert.equal((await run(db, '--styles', mine, '--limit', '2', '--languages', 'en', '--name', 'after')).code, 0);
  const c = await cli('compare', 'before', 'after', '--db', db);
  assert.equal(c.code, 2, c.out + c.err);
  assert.match(c.err, /style "mine" head: "word" vs "entity"/);
});

test("the report takes a style's head from the run, not from a bundled file of the same name", async () => {
  const db = join(tempDir(), 'head.sqlite');
  // Named like the bundled entity-word (word head), but reading the entity head.
  const mine = styleFile('entity', { name: 'entity-word' }, 'mine.json');
  assert.equal((await run(db, '--styles', mine, '--limit', '3', '--languages', 'en', '--name', 'h')).code, 0);
  const j = JSON.parse((await cli('report', '--run', 'h', '--db', db, '--format', 'json')).out);
  assert.equal(j.heads['entity-word'], 'entity');
  const table = (await cli('report', '--run', 'h', '--db', db)).out;
  assert.match(table, /coverage/);
});

test('--styles defaults to the paper styles the family serves, and the run says which and why', async () => {
  const db = join(tempDir(), 'defaults.sqlite');
  const luke = await run(db, '--limit', '1', '--languages', 'en', '--name', 'luke');
  assert.equal(luke.code, 0, luke.err);
  assert.match(luke.out.split('\n')[0], /^styles: word, entity \(the default for family luke: the paper styles it serves\)$/);
  assert.deepEqual([...new Set(storedRun(db, 'luke').rows.map((r) => r.style))].sort(), ['entity', 'word']);
  for (const family of ['xlmr', 'bert'] as const) {
    const r = await cli('run', '--data', SAMPLE_DATA, '--model', familyCheckpoint(family), '--limit', '1', '--languages', 'en', '--name', family, '--db', db);
    assert.equal(r.code, 0, r.err);
    assert.match(
      r.out.split('\n')[0],
      new RegExp(`^styles: word \\(the default for family ${family}: the paper styles it serves; entity left out: .*has no entity head`),
    );
    assert.deepEqual([...new Set(storedRun(db, family).rows.map((x) => x.style))], ['word']);
  }
  const given = await run(db, '--limit', '1', '--languages', 'en', '--styles', 'word', '--name', 'given');
  assert.match(given.out.split('\n')[0], /^styles: word \(as given by --styles\)$/);
});

test('a resume without --styles takes them from the stored run and says so', async () => {
  const db = join(tempDir(), 'resume.sqlite');
  const store = openStore(db, {});
  const quiet = { start() {}, advance() {}, stop() {} };
  const notes: string[] = [];
  try {
    const first = await evaluate(
      store,
      { data: SAMPLE_DATA, model: ck, languages: ['en'], limit: 4, templates: 'main', fallback: false, name: 'cut', threads: 1, batchSize: 4 },
      quiet,
      () => true,
      (l) => notes.push(l),
    );
    assert.equal(first.run.status, 'interrupted');
  } finally {
    store.db.close();
  }
  assert.deepEqual(notes, ['styles: word, entity (the default for family luke: the paper styles it serves)']);
  const r = await cli('run', '--resume', 'cut', '--db', db, '--threads', '1');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.split('\n')[0], 'styles: word, entity (as stored with run "cut")');
  assert.equal(storedRun(db, 'cut').status, 'complete');
});

test('a run handed its context (run --budget opens it once, for its pilot and the run) opens none of its own', async () => {
  const db = join(tempDir(), 'handed.sqlite');
  const o = {
    data: SAMPLE_DATA,
    model: ck,
    languages: ['en'],
    styles: ['word'],
    limit: 3,
    templates: 'main' as const,
    fallback: false,
    name: 'handed',
    threads: 1,
  };
  const opened = { ...runContext(o), stylesChosen: 'as opened by the caller' };
  const store = openStore(db, {});
  const notes: string[] = [];
  try {
    const r = await evaluate(
      store,
      o,
      { start() {}, advance() {}, stop() {} },
      () => false,
      (l) => notes.push(l),
      opened,
    );
    assert.equal(r.run.status, 'complete');
  } finally {
    store.db.close();
  }
  assert.deepEqual(notes, ['styles: word (as opened by the caller)']);
  assert.equal(storedRun(db, 'handed').rows.length, 15, '3 subjects of each of the 5 en relations');
});

test("a run and its --budget pilot score with one set of settings: the options' part and the checkpoint's", () => {
  const { ck: loaded } = runContext({ data: SAMPLE_DATA, model: ck, languages: ['en'], styles: ['word'], templates: 'main', fallback: false });
  const s = runScoring(loaded, { protocol: 'authors-script', batchSize: 8, templates: 'main', fallback: false }, undefined);
  // The protocol's top k reaches the pilot too (it timed the paper's 10 whatever the protocol stored).
  assert.deepEqual([s.topK, s.batchSize, s.tokenBudget], [100, 8, 4096]);
  assert.equal(s.padEntityId, loaded.entityVocab?.special.pad ?? 0);
  assert.ok(s.maxLength && s.maxLength > 0);
  assert.deepEqual(s.headWidths, headWidths(loaded));
});

test('a candidate with no tokens is refused while planning, before the run is stored', async () => {
  const data = sampleCopy();
  // zh is scored last: before, ar, en and ja were stored and the run failed at zh.
  const file = join(data, 'TREx_multilingual_objects', 'zh.json');
  const sets = JSON.parse(readFileSync(file, 'utf8'));
  sets.P30.objects.push('\u200b');
  writeFileSync(file, JSON.stringify(sets));
  const db = join(tempDir(), 'empty.sqlite');
  const r = await cli('run', '--data', data, '--model', familyCheckpoint('bert'), '--limit', '2', '--db', db);
  assert.equal(r.code, 2, r.out + r.err);
  assert.match(r.err, /zh\/P30: candidate "\u200b" has no tokens/);
  assert.equal(runCount(db), 0, 'nothing stored');
});

test('truncated external weights: one short line naming the file, its size and the size the graph reads', async () => {
  const copy = join(tempDir(), 'ck');
  cpSync(ck, copy, { recursive: true });
  const weights = join(copy, 'weights.bin');
  truncateSync(weights, Math.floor(statSync(weights).size / 2));
  const r = await run(join(tempDir(), 'trunc.sqlite'), '--model', copy, '--styles', 'word', '--limit', '1');
  assert.equal(r.code, 2, r.out + r.err);
  assert.equal(r.err.trim().split('\n').length, 1, r.err);
  assert.match(r.err, /weights\.bin: \d+ bytes, but .*model(\.words)?\.onnx reads \d+ bytes from it \(tensor .*\); the file is truncated/);
  assert.ok(r.err.length < 400, r.err);
});

test('make-checkpoint refuses a fractional seed and a folder holding something else; a previous generated one is replaced', async () => {
  const out = join(tempDir(), 'ck');
  const seed = await cli('make-checkpoint', '--out', out, '--seed', '1.5');
  assert.equal(seed.code, 2, seed.out + seed.err);
  assert.match(seed.err, /--seed must be an integer, got "1\.5"/);
  assert.equal(existsSync(out), false);
  const foreign = tempDir();
  writeFileSync(join(foreign, 'notes.txt'), 'mine');
  const r = await cli('make-checkpoint', '--out', foreign);
  assert.equal(r.code, 2, r.out + r.err);
  assert.match(r.err, /not empty and holds no generated checkpoint/);
  assert.equal(readFileSync(join(foreign, 'notes.txt'), 'utf8'), 'mine');
  assert.equal((await cli('make-checkpoint', '--out', out, '--seed', '2')).code, 0);
  const again = await cli('make-checkpoint', '--out', out, '--seed', '3');
  assert.equal(again.code, 0, again.err);
  assert.match(again.out, /seed 3/);
});
