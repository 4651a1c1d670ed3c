// tier: full (needs ../shared)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { calibrateMatMul, medianCalibration, pairedMfu } from '../src/bench/calibrate.js';
import type { PeerBench } from '../src/bench/peer.js';
import { peerBenchText, peerSummary } from '../src/report/peer.js';
import { cli, SHARED_DATA } from './support/cli.js';
import { tinyCheckpoint } from './support/fixtures.js';

// These check what the benchmark commands compute and print, never how fast: timings are for the commands.

const cal = (gflops: number) => ({ shapes: [], gflops });

/** One side's figures for one style: 60 queries and 600 GFLOP of useful work in `seconds` (one round). */
const measure = (side: string, style: string, seconds: number, buildSeconds?: number[]) => ({
  side,
  style,
  queries: 60,
  seconds: [seconds],
  queriesPerSecond: 60 / seconds,
  gflops: 600 / seconds,
  buildSeconds,
});

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

test('bench peer: the displayed ceiling is the median calibration, the upper middle of an even count', () => {
  assert.equal(medianCalibration([cal(90.9), cal(145.4), cal(120)]).gflops, 120);
  assert.equal(medianCalibration([cal(130), cal(90.9), cal(145.4), cal(120)]).gflops, 130);
  assert.equal(medianCalibration([cal(7)]).gflops, 7);
  assert.throws(() => medianCalibration([]), /no calibration/);
});

test('bench peer: MFU divides each round by the ceiling measured beside it, then takes the median', () => {
  const round = (gflopsRate: number, before: number, after: number) => ({ flops: 1200e9, seconds: 1200 / gflopsRate, before: cal(before), after: cal(after) });
  // The second round ran in a busy moment: slower, and so was the ceiling beside it.
  const rounds = [round(100, 120, 130), round(80, 95, 105), round(120, 118, 122)];
  const { perRound, mfu } = pairedMfu(rounds);
  assert.deepEqual(
    perRound.map((x) => [x.rate, x.ceiling, x.mfu].map((v) => Number(v.toFixed(6)))),
    [
      [100, 125, 0.8],
      [80, 100, 0.8],
      [120, 120, 1],
    ],
  );
  assert.equal(Number(mfu.toFixed(6)), 0.8);
  assert.throws(() => pairedMfu([]), /no round/);

  const bench: PeerBench = {
    measures: [measure('peer', 'word', 40), measure('harness', 'word', 10), measure('peer', 'entity', 50), measure('harness', 'entity', 10)],
    top1: new Map(),
    flops: new Map([
      ['word', 600e9],
      ['entity', 600e9],
    ]),
    peakRssMb: 1,
    paired: rounds,
  };
  // With rounds paired, the one ceiling passed (the median calibration, for display) does not enter MFU...
  assert.equal(Number(peerSummary(bench, cal(1000)).mfuExported.toFixed(6)), 0.8);
  assert.equal(peerSummary(bench, cal(1000)).wordSpeedup, 4);
  // ...without pairs, the useful rate over all styles (1200 GFLOP in 20 s) over that ceiling.
  assert.equal(Number(peerSummary({ ...bench, paired: [] }, cal(75)).mfuExported.toFixed(6)), 0.8);
});

test('bench peer: the harness builds its prompts off the clock, as the peer is handed them, and the building is printed apart', () => {
  const bench: PeerBench = {
    measures: [
      measure('peer', 'word', 40),
      measure('harness', 'word', 10, [0.7, 0.5, 0.6]),
      measure('peer', 'entity', 50),
      measure('harness', 'entity', 10, [0.4]),
    ],
    top1: new Map(),
    flops: new Map(),
    peakRssMb: 1,
    paired: [],
  };
  const lib = { python: 'python', torch: '2', threads: 2, loadSeconds: 1, calibration: cal(100) };
  const text = peerBenchText(bench, cal(100), [lib], lib, [], false);
  assert.match(text, /harness query building per round .*: word 0\.60 s, entity 0\.40 s \(median\)/);
  assert.match(text, /peer: word_speedup=4\.00 entity_speedup=5\.00 /);
});

test('bench peer: the MatMul calibration reports each shape and their total FLOPs over total time', async () => {
  const c = await calibrateMatMul(
    [
      { m: 16, k: 32, n: 32 },
      { m: 16, k: 32, n: 64 },
    ],
    1,
    3,
  );
  assert.deepEqual(
    c.shapes.map((s) => [s.m, s.k, s.n]),
    [
      [16, 32, 32],
      [16, 32, 64],
    ],
  );
  for (const s of c.shapes) assert.ok(Number.isFinite(s.gflops) && s.gflops > 0, String(s.gflops));
  // Total over total lies between the shapes' own rates.
  const rates = c.shapes.map((s) => s.gflops);
  assert.ok(c.gflops >= Math.min(...rates) * 0.999999 && c.gflops <= Math.max(...rates) * 1.000001, `${c.gflops} vs ${rates}`);
});
