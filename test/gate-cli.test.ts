import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { cli, SAMPLE_DATA, sampleCopy, tempDir } from './support/cli.js';
import { tinyCheckpoint } from './support/fixtures.js';
import { mcnemarExact } from '../src/report/compare.js';
import { COMPARE_METRICS } from '../src/report/metrics.js';

// compare across style sets and styles (issue 31), the gate file and its formats, run --sample and --budget
// (issue 33): through the CLI, on the bundled sample.

const ck1 = tinyCheckpoint(1, false, SAMPLE_DATA);
const ck2 = tinyCheckpoint(2, false, SAMPLE_DATA);
const dir = tempDir();
const db = join(dir, 'gate-cli.sqlite');
const run = (...a: string[]) => cli('run', '--data', SAMPLE_DATA, '--db', db, ...a);

function keys(name: string): string[] {
  const raw = new Database(db, { readonly: true });
  const rows = raw
    .prepare(
      `SELECT style || '|' || language || '|' || relation || '|' || subject AS k FROM results WHERE run_id = (SELECT id FROM runs WHERE name = ?) ORDER BY k`,
    )
    .pluck()
    .all(name) as string[];
  raw.close();
  return rows;
}

test('setup: word+entity and word-only runs, languages in two orders', async () => {
  for (const [name, ck, more] of [
    ['both', ck1, ['--styles', 'word,entity', '--languages', 'en,ja']],
    ['word-only', ck2, ['--styles', 'word', '--languages', 'ja,en']],
    ['both-limited', ck2, ['--styles', 'entity,word', '--languages', 'en,ja', '--limit', '5']],
  ] as const) {
    const r = await run('--model', ck, '--name', name, ...more);
    assert.equal(r.code, 0, r.err);
  }
});

test('runs with different style sets compare on the styles both have, listing the rest, without --force', async () => {
  const r = await cli('compare', 'both', 'word-only', '--db', db);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^compared both \(A\) with word-only \(B\) on word: 598 paired queries; left out: both:entity \("word-only" has no entity\)$/m);
  assert.doesNotMatch(r.out, /│ \w+ +│ entity/);
  const json = JSON.parse((await cli('compare', 'both', 'word-only', '--db', db, '--format', 'json')).out);
  assert.deepEqual(json.compared.pairs, [{ a: 'word', b: 'word' }]);
  assert.deepEqual(json.compared.left_out, ['both:entity ("word-only" has no entity)']);
  // A gate judges every style of the baseline: one the candidate lacks fails closed, unless the gate names styles.
  const gated = await cli('compare', 'both', 'word-only', '--db', db, '--fail-on-drop', '50');
  assert.equal(gated.code, 1, gated.out + gated.err);
  assert.match(gated.out, /^FAIL: run "word-only" has no style "entity" that the baseline "both" has; the gate cannot pass/m);
  const onlyWord = join(dir, 'word.json');
  writeFileSync(onlyWord, JSON.stringify({ max_drop: 50, styles: ['word'] }));
  assert.doesNotMatch((await cli('compare', 'both', 'word-only', '--db', db, '--gate', onlyWord)).out, /has no style/);
});

test('compare A:STYLE B:STYLE pairs one style of each run over the queries both answered, with exact McNemar p values', async () => {
  const r = await cli('compare', 'both:entity', 'word-only:word', '--db', db, '--format', 'json');
  assert.equal(r.code, 0, r.err);
  const json = JSON.parse(r.out);
  assert.deepEqual(json.compared.pairs, [{ a: 'entity', b: 'word' }]);
  assert.deepEqual(json.compared.left_out, ['both:word']);
  assert.deepEqual(
    json.deltas.map((d: { language: string; style: string }) => `${d.language}/${d.style}`),
    ['en/entity vs word', 'ja/entity vs word'],
  );
  for (const d of json.deltas) {
    assert.equal(d.paired, 299);
    assert.ok(d.p_value > 0 && d.p_value <= 1);
  }
  // One p over every language: the exact McNemar test on the summed discordant pairs.
  const losses = json.deltas.reduce((s: number, d: { losses: number }) => s + d.losses, 0);
  const gains = json.deltas.reduce((s: number, d: { gains: number }) => s + d.gains, 0);
  assert.deepEqual([json.pooled.paired, json.pooled.losses, json.pooled.gains], [598, losses, gains]);
  assert.equal(json.pooled.p_value, mcnemarExact(losses, gains));
  const t = await cli('compare', 'both:entity', 'word-only:word', '--db', db);
  assert.match(t.out, /^pooled over 2 cells: 598 pairs, A only \d+, B only \d+, B-A -?\d+\.\d pts, exact McNemar p=/m);
  assert.match(t.out, /^compared both \(A\) with word-only \(B\) on both:entity vs word-only:word: 598 paired queries; left out: both:word$/m);
  // Queries only one run answered are counted as left out: the limited run answered 25 per language.
  const lim = await cli('compare', 'both-limited:word', 'word-only:word', '--db', db, '--force', '--format', 'json');
  assert.deepEqual(JSON.parse(lim.out).compared.unpaired, { a: 0, b: 548 });
  const limText = await cli('compare', 'both-limited:word', 'word-only:word', '--db', db, '--force');
  assert.match(limText.out, /: 50 paired queries; left out: both-limited:entity, 548 only word-only answered$/m);
  const missing = await cli('compare', 'both:nope', 'word-only', '--db', db);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /^error: run "both" has no style "nope" \(it has word, entity\)\n$/);
});

test('--force says every difference it overrode, the dataset among them, in text and JSON', async () => {
  const refused = await cli('compare', 'both', 'both-limited', '--db', db);
  assert.equal(refused.code, 2);
  assert.match(refused.err, /differ in limit: null vs 5/);
  const r = await cli('compare', 'both', 'both-limited', '--db', db, '--force', '--format', 'json');
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /^warning: --force: comparing although the runs differ in limit: null vs 5$/m);
  assert.deepEqual(JSON.parse(r.out).compared.overridden, ['limit: null vs 5']);
  // A dataset difference is named too: the same run's stored dataset fingerprint edited.
  const raw = new Database(db);
  raw.prepare(`UPDATE runs SET dataset = json_set(dataset, '$.en', 'edited') WHERE name = 'both-limited'`).run();
  raw.close();
  const d = await cli('compare', 'both', 'both-limited', '--db', db, '--force');
  assert.match(d.err, /warning: --force: comparing although the runs differ in dataset en: /);
  assert.match(d.out, /^--force overrode: dataset en: /m);
});

test('--gate: the policy file, its errors in one line, its sample checked against both runs', async () => {
  const file = (name: string, body: unknown) => {
    const f = join(dir, name);
    writeFileSync(f, typeof body === 'string' ? body : JSON.stringify(body));
    return f;
  };
  const bad = await cli('compare', 'both', 'both', '--db', db, '--gate', file('bad.json', { max_drop: { ja: 'x' } }));
  assert.equal(bad.code, 2);
  assert.match(bad.err, /^error: .*bad\.json: max_drop\.ja must be a number of points from 0 to 100, got "x"\n$/);
  const broken = await cli('compare', 'both', 'both', '--db', db, '--gate', file('broken.json', '{"alpha": '));
  assert.equal(broken.code, 2);
  assert.match(broken.err, /broken\.json: not valid JSON/);
  const absent = await cli('compare', 'both', 'both', '--db', db, '--gate', join(dir, 'none.json'));
  assert.match(absent.err, /^error: --gate .*none\.json: cannot read it \(ENOENT\)\n$/);
  const sampled = await cli('compare', 'both', 'both', '--db', db, '--gate', file('s.json', { max_drop: 50, sample: { size: 100, seed: 1 } }));
  assert.equal(sampled.code, 1, sampled.out + sampled.err);
  assert.match(sampled.out, /FAIL: run "both" was not asked the gate's sample \(--sample 100 --seed 1; it has sample null, seed 1\)/);
  const styles = await cli('compare', 'both', 'both', '--db', db, '--gate', file('st.json', { max_drop: 50, styles: ['word'] }), '--format', 'json');
  assert.equal(styles.code, 0, styles.out + styles.err);
  const json = JSON.parse(styles.out);
  assert.deepEqual(json.compared.pairs, [{ a: 'word', b: 'word' }]);
  assert.equal(json.policy.max_drop.default, 50);
  assert.equal(json.gate.outcome, 'pass');
  for (const k of ['delta_points', 'ci_points', 'p_drop', 'p_two_sided', 'p_holm', 'mdd_points', 'outcome', 'reason']) assert.ok(k in json.gate.cells[0], k);
  for (const k of ['alpha', 'power', 'family_size', 'per_test_alpha', 'pooled', 'counts']) assert.ok(k in json.gate, k);
});

test('--format junit and markdown: a regressed cell is a failure, an inconclusive one skipped; junit needs a gate', async () => {
  const raw = new Database(db);
  raw.exec(`INSERT INTO runs (name, status, started_at, finished_at, options, harness_version, checkpoint, dataset, random_weights, planned)
            SELECT 'both-ja-lost', status, started_at, finished_at, options, harness_version, checkpoint, dataset, random_weights, planned FROM runs WHERE name = 'both'`);
  raw.exec(`INSERT INTO results (run_id, style, language, relation, template, subject, golds, lineids, top, gold_rank, gold_score, candidates, covered, shard)
            SELECT (SELECT id FROM runs WHERE name = 'both-ja-lost'), style, language, relation, template, subject, golds, lineids, top,
            CASE WHEN language = 'ja' AND style = 'word' THEN candidates ELSE gold_rank END, gold_score, candidates, covered, shard
            FROM results WHERE run_id = (SELECT id FROM runs WHERE name = 'both')`);
  raw.close();
  const j = await cli('compare', 'both', 'both-ja-lost', '--db', db, '--fail-on-drop', '1', '--format', 'junit');
  assert.equal(j.code, 1, j.err);
  assert.match(j.out, /<testcase classname="mlama\.gate" name="ja\/word"><failure message="-\d+\.\d pts/);
  assert.match(j.out, /<testcase classname="mlama\.gate" name="en\/word"><skipped message=/);
  assert.match(j.out, /^<testsuites name="mlama gate" tests="5" failures="\d" skipped="\d">$/m);
  const m = await cli('compare', 'both', 'both-ja-lost', '--db', db, '--fail-on-drop', '1', '--format', 'markdown');
  assert.match(m.out, /^### mLAMA regression gate: \*\*REGRESSED\*\*$/m);
  assert.match(m.out, /^\| ja \| word \| 299 \| .* \| \*\*REGRESSED\*\* \|$/m);
  const noGate = await cli('compare', 'both', 'both', '--db', db, '--format', 'junit');
  assert.equal(noGate.code, 2);
  assert.match(noGate.err, /--format junit reports a gate: give --fail-on-drop or --gate/);
});

test('run --sample N --seed S: N queries per language stratified over relations; the same sample answers the same queries', async () => {
  for (const [name, ck, seed] of [
    ['s1', ck1, '7'],
    ['s2', ck2, '7'],
    ['s3', ck1, '8'],
  ] as const) {
    const r = await run('--model', ck, '--name', name, '--styles', 'word', '--languages', 'en,ja', '--sample', '20', '--seed', seed);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /run "s\d" complete: 40\/40 answers/);
  }
  assert.deepEqual(keys('s1'), keys('s2'));
  assert.notDeepEqual(keys('s1'), keys('s3'));
  // Five relations of 60 queries each: 4 per relation.
  const perRelation = new Map<string, number>();
  for (const k of keys('s1')) {
    const [, lang, rel] = k.split('|');
    perRelation.set(`${lang}/${rel}`, (perRelation.get(`${lang}/${rel}`) ?? 0) + 1);
  }
  assert.deepEqual([...new Set(perRelation.values())], [4]);
  const refused = await cli('compare', 's1', 's3', '--db', db);
  assert.equal(refused.code, 2);
  assert.match(refused.err, /differ in seed: 7 vs 8/);
  const listed = JSON.parse((await cli('runs', '--db', db, '--format', 'json')).out).find((r: { name: string }) => r.name === 's1');
  assert.equal(listed.options.sample, 20);
  assert.equal(listed.options.seed, 7);
  // The stored sample reads back: a resume finds nothing changed, and shards splits the same 40 queries.
  const resumed = await run('--resume', 's1');
  assert.equal(resumed.code, 0, resumed.err);
  assert.match(resumed.out, /run "s1" is already complete/);
  const shards = await cli(
    'shards',
    '--model',
    ck1,
    '--data',
    SAMPLE_DATA,
    '--styles',
    'word',
    '--languages',
    'en,ja',
    '--sample',
    '20',
    '--seed',
    '7',
    '--count',
    '2',
  );
  assert.equal(shards.code, 0, shards.err);
  assert.match(shards.out, /^40 queries over 2 languages, 2 shards/m);
  const seedAlone = await run('--model', ck1, '--name', 'seed-alone', '--styles', 'word', '--languages', 'en', '--seed', '3');
  assert.equal(seedAlone.code, 2);
  assert.match(seedAlone.err, /^error: --seed chooses the queries of --sample: give --sample N too\n$/);
  const badSeed = await run('--model', ck1, '--styles', 'word', '--languages', 'en', '--sample', '5', '--seed', '-1');
  assert.match(badSeed.err, /--seed must be a non-negative integer, got "-1"/);
});

test('run --budget MINUTES chooses --sample from the measured cost model, prints the choice and stores the sample', async () => {
  const r = await run('--model', ck1, '--name', 'budgeted', '--styles', 'word', '--languages', 'en', '--budget', '0.002');
  assert.equal(r.code, 0, r.err);
  const m = r.out.match(
    /^--budget 0\.002 min: --sample (\d+) per language \(1 languages, est\. [\d.]+ min at [\d.]+ useful GFLOP\/s measured on a pilot here; per query in all styles: en [\d.]+ ms\)$/m,
  );
  assert.ok(m, r.out);
  const n = Number(m[1]);
  assert.ok(n >= 1 && n <= 300);
  const listed = JSON.parse((await cli('runs', '--db', db, '--format', 'json')).out).find((x: { name: string }) => x.name === 'budgeted');
  assert.equal(listed.options.sample, n);
  assert.equal(listed.stored, undefined);
  assert.equal(listed.answers, n);
  const both = await run('--model', ck1, '--styles', 'word', '--languages', 'en', '--budget', '1', '--sample', '3');
  assert.equal(both.code, 2);
  assert.match(both.err, /--budget chooses --sample: give one of them/);
  const bad = await run('--model', ck1, '--budget', '0');
  assert.match(bad.err, /--budget must be a positive number of minutes, got "0"/);
});

test('a sample as large as the data answers every query but pairs only with its own sample, and says so; a --budget that pays for everything asks no sample', async () => {
  const full = await run('--model', ck1, '--name', 'en-all', '--styles', 'word', '--languages', 'en');
  assert.equal(full.code, 0, full.err);
  const huge = await run('--model', ck1, '--name', 'en-huge', '--styles', 'word', '--languages', 'en', '--sample', '1e9');
  assert.equal(huge.code, 0, huge.err);
  assert.deepEqual(keys('en-huge'), keys('en-all'));
  const refused = await cli('compare', 'en-all', 'en-huge', '--db', db);
  assert.equal(refused.code, 2);
  assert.match(
    refused.err,
    /sample: null vs 1000000000 \(a sample is compared as stored, even one at least as large as every language, which selects every query: give both runs the same --sample and --seed, or neither\)/,
  );
  const budget = await run('--model', ck1, '--name', 'en-budget-all', '--styles', 'word', '--languages', 'en', '--budget', '100000');
  assert.equal(budget.code, 0, budget.err);
  assert.match(budget.out, /^--budget 100000 min: the whole selection fits, no --sample \(1 languages, est\. [\d.]+ min at /m);
  const listed = JSON.parse((await cli('runs', '--db', db, '--format', 'json')).out).find((x: { name: string }) => x.name === 'en-budget-all');
  assert.equal(listed.options.sample, null);
  assert.deepEqual(keys('en-budget-all'), keys('en-all'));
  const paired = await cli('compare', 'en-all', 'en-budget-all', '--db', db);
  assert.equal(paired.code, 0, paired.err);
});

test('a style given as a file pairs and gates under the name its answers are stored by', async () => {
  const entityFile = join(tempDir(), 'my-entity.json');
  writeFileSync(entityFile, readFileSync('prompts/entity.json'));
  const r = await run('--model', ck1, '--name', 'file-styles', '--styles', `word,${entityFile}`, '--languages', 'en,ja');
  assert.equal(r.code, 0, r.err);
  const json = JSON.parse((await cli('compare', 'both', 'file-styles', '--db', db, '--format', 'json')).out);
  assert.deepEqual(json.compared.pairs, [
    { a: 'entity', b: 'entity' },
    { a: 'word', b: 'word' },
  ]);
  assert.deepEqual(json.compared.left_out, []);
  const gated = await cli('compare', 'both', 'file-styles', '--db', db, '--fail-on-drop', '5');
  assert.equal(gated.code, 0, gated.out + gated.err);
  const named = await cli('compare', 'both:entity', 'file-styles:entity', '--db', db);
  assert.equal(named.code, 0, named.err);
  assert.match(named.out, /on entity: 598 paired queries/);
});

test("a style's definition refuses a compare only where that style is paired with itself", async () => {
  const entityFile = join(tempDir(), 'entity.json');
  writeFileSync(entityFile, JSON.stringify({ ...JSON.parse(readFileSync('prompts/entity-nosubj.json', 'utf8')), name: 'entity' }));
  const r = await run('--model', ck1, '--name', 'nosubj', '--styles', `word,${entityFile}`, '--languages', 'en,ja');
  assert.equal(r.code, 0, r.err);
  const bare = await cli('compare', 'both', 'nosubj', '--db', db);
  assert.equal(bare.code, 2);
  assert.match(bare.err, /^error: runs "both" and "nosubj" differ in style "entity" subject_entity: "entity" vs "none"; /);
  const word = await cli('compare', 'both:word', 'nosubj:word', '--db', db);
  assert.equal(word.code, 0, word.err);
  assert.match(word.out, /on word: 598 paired queries; left out: both:entity, nosubj:entity$/m);
  const gate = join(tempDir(), 'gate.json');
  writeFileSync(gate, JSON.stringify({ styles: ['word'], max_drop: 50 }));
  const gated = await cli('compare', 'both', 'nosubj', '--db', db, '--gate', gate);
  assert.equal(gated.code, 0, gated.out + gated.err);
});

test('over different data (--force), a query whose golds changed is not paired, and a gate fails closed on it', async () => {
  const data = sampleCopy();
  const file = join(data, 'en', 'P19.jsonl');
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  const changed = lines.map((l, i) => (i < 10 ? JSON.stringify({ ...JSON.parse(l), obj_label: JSON.parse(l).obj_label === 'Paris' ? 'London' : 'Paris' }) : l));
  writeFileSync(file, `${changed.join('\n')}\n`);
  const r = await cli('run', '--data', data, '--db', db, '--model', ck1, '--name', 'other-golds', '--styles', 'word,entity', '--languages', 'en,ja');
  assert.equal(r.code, 0, r.err);
  const json = JSON.parse((await cli('compare', 'both', 'other-golds', '--db', db, '--force', '--format', 'json')).out);
  assert.deepEqual(json.compared.unpaired, { a: 20, b: 20 });
  for (const d of json.deltas) if (d.language === 'en') assert.equal(d.paired, 289);
  const gated = await cli('compare', 'both', 'other-golds', '--db', db, '--force', '--fail-on-drop', '50');
  assert.equal(gated.code, 1, gated.out + gated.err);
  assert.match(gated.out, /^FAIL: run "other-golds" answers 289 of the 299 en\/word queries of "both"/m);
});

test('compare --metric p_at_10 pairs hits at rank 10 in every format; the gate file may name the metric; a metric without per-answer hits is refused', async () => {
  const hits = (name: string, language: string, k: number) => {
    const raw = new Database(db, { readonly: true });
    const n = raw
      .prepare(
        `SELECT count(*) FROM results WHERE run_id = (SELECT id FROM runs WHERE name = ?) AND style = 'word' AND language = ? AND covered = 1 AND json_array_length(top) > 0 AND gold_rank <= ?`,
      )
      .pluck()
      .get(name, language, k) as number;
    raw.close();
    return n;
  };
  const at10 = JSON.parse((await cli('compare', 'both', 'word-only', '--db', db, '--metric', 'p_at_10', '--format', 'json')).out);
  const at1 = JSON.parse((await cli('compare', 'both', 'word-only', '--db', db, '--format', 'json')).out);
  assert.deepEqual([at10.metric, at1.metric], ['p_at_10', 'p_at_1']);
  for (const [json, k] of [
    [at10, 10],
    [at1, 1],
  ] as const)
    for (const d of json.deltas) {
      assert.equal(d.a_correct, hits('both', d.language, k), `${d.language} A at ${k}`);
      assert.equal(d.b_correct, hits('word-only', d.language, k), `${d.language} B at ${k}`);
      assert.equal(d[`p_at_${k}_a`], d.a_correct / d.paired);
      assert.equal(d[`p_at_${k}_b`], d.b_correct / d.paired);
    }
  assert.ok(
    at10.deltas.some((d: { a_correct: number }, i: number) => d.a_correct > at1.deltas[i].a_correct),
    'P@10 counts more hits than P@1',
  );
  const table = await cli('compare', 'both', 'word-only', '--db', db, '--metric', 'p_at_10');
  assert.match(table.out, /│ A P@10 +│ B P@10 +│/);
  // The gate file's metric, judged and named in JSON, markdown and JUnit; --metric overrides the file, as flags do.
  const gate = join(dir, 'at10.json');
  writeFileSync(gate, JSON.stringify({ metric: 'p_at_10', max_drop: 50, styles: ['word'] }));
  const gated = JSON.parse((await cli('compare', 'both', 'word-only', '--db', db, '--gate', gate, '--format', 'json')).out);
  assert.deepEqual([gated.metric, gated.policy.metric], ['p_at_10', 'p_at_10']);
  // The gate's cells (and its failing ones) name their values by the metric as the deltas do, not value_a.
  for (const c of gated.gate.cells) {
    assert.deepEqual([c.value_a, c.value_b], [undefined, undefined]);
    assert.equal(c.p_at_10_a, c.a_correct / c.paired);
    assert.equal(c.p_at_10_b, c.b_correct / c.paired);
  }
  assert.deepEqual(
    gated.gate.cells.map((c: { a_correct: number }) => c.a_correct),
    at10.deltas.map((d: { a_correct: number }) => d.a_correct),
  );
  const md = await cli('compare', 'both', 'word-only', '--db', db, '--gate', gate, '--format', 'markdown');
  assert.match(md.out, /^\| language \| style \| paired \| A P@10 \| B P@10 \|/m);
  const junit = await cli('compare', 'both', 'word-only', '--db', db, '--gate', gate, '--format', 'junit');
  assert.match(junit.out, /<property name="metric" value="p_at_10"\/>/);
  const flag = JSON.parse((await cli('compare', 'both', 'word-only', '--db', db, '--gate', gate, '--metric', 'p_at_1', '--format', 'json')).out);
  assert.deepEqual([flag.metric, flag.policy.metric], ['p_at_1', 'p_at_1']);
  for (const key of ['mrr', 'macro_p_at_1', 'entity_coverage', 'p_at_3x']) {
    const r = await cli('compare', 'both', 'word-only', '--db', db, '--metric', key);
    assert.equal(r.code, 2, key);
    assert.ok(r.err.startsWith(`error: --metric must be one of ${COMPARE_METRICS.map((d) => d.key).join(', ')} (`), r.err);
    assert.ok(r.err.endsWith(`got "${key}"\n`), r.err);
  }
  writeFileSync(gate, JSON.stringify({ metric: 'mrr' }));
  const badFile = await cli('compare', 'both', 'word-only', '--db', db, '--gate', gate);
  assert.equal(badFile.code, 2);
  assert.match(badFile.err, /at10\.json: metric must be one of p_at_1, .*, got "mrr"\n$/);
});
