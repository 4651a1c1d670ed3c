import assert from 'node:assert/strict';
import { test } from 'node:test';
import { medianCalibration } from '../src/bench/calibrate.js';
import { cli, SHARED_DATA } from './support/cli.js';
import { tinyCheckpoint } from './support/fixtures.js';

// These check what the benchmark commands compute and print, never how fast: timings are for the commands.

test('bench prompts: candidates are tokenized once per relation, not once per fact', async () => {
  const r = await cli(
    'bench',
    'prompts',
    '--data',
    SHARED_DATA,
    '--model',
    tinyCheckpoint(),
    '--language',
    'zh',
    '--styles',
    'word',
    '--rounds',
    '1',
    '--per-fact-limit',
    '2',
  );
  assert.equal(r.code, 0, r.err);
  const row = (name: string) =>
    r.out
      .split('\n')
      .find((l) => l.includes(name))!
      .split('│')
      .map((c) => c.trim());
  const cached = row('cached per');
  const perFact = row('re-tokenized per fact');
  assert.equal(Number(cached[2]), 7924, 'every zh query (distinct subject per relation) is built');
  // The cached build tokenizes about one subject per query plus its share of the relation's candidates; the per-fact build the whole candidate set each time.
  assert.ok(Number(cached[4]) < 2.5, `cached calls/query ${cached[4]}`);
  assert.ok(Number(perFact[4]) > 50, `per-fact calls/query ${perFact[4]}`);
  assert.match(r.out, /zh: 7924 queries built in [\d.]+ s \(median\); [\d.]+x the per-fact rate/);
});

test('bench scoring: shipped and naive patterns agree, and the summary line is printed', async () => {
  const r = await cli(
    'bench',
    'scoring',
    '--data',
    SHARED_DATA,
    '--model',
    tinyCheckpoint(),
    '--languages',
    'en,ja',
    '--per-language',
    '12',
    '--rounds',
    '2',
    '--threads',
    '1',
  );
  assert.equal(r.code, 0, r.err);
  const m = /agreement: shipped and naive give the same top-1 for (\d+)\/(\d+)/.exec(r.out);
  assert.ok(m, r.out);
  assert.equal(m[1], m[2]);
  assert.equal(Number(m[2]), 2 * 2 * 12, 'two languages x two styles x 12 queries');
  assert.match(r.out.trim().split('\n').at(-1)!, /^speedup=[\d.]+ mfu=[\d.]+ overhead=[\d.]+ rss_mb=\d+$/);
  assert.equal((r.err.match(/^round \d\/2 /gm) ?? []).length, 2 * 2 * 2, 'rounds x patterns x styles');
  const bad = await cli('bench', 'scoring', '--data', SHARED_DATA, '--model', tinyCheckpoint(), '--patterns', 'fast');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /unknown pattern "fast"/);
});

test('bench peer: the MFU ceiling is the median calibration, the upper middle of an even count', () => {
  const cal = (gflops: number) => ({ shapes: [], gflops });
  assert.equal(medianCalibration([cal(90.9), cal(145.4), cal(120)]).gflops, 120);
  assert.equal(medianCalibration([cal(130), cal(90.9), cal(145.4), cal(120)]).gflops, 130);
  assert.equal(medianCalibration([cal(7)]).gflops, 7);
  assert.throws(() => medianCalibration([]), /no calibration/);
});
