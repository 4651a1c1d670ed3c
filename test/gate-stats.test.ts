import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { binomialUpperTail, holm, mcnemarDrop, mcnemarTwoSided, normalQuantile, pairedDeltaInterval } from '../src/gate/stats.js';
import { mcnemarPower, minimumDetectableDrop, smallestSignificantSize } from '../src/gate/power.js';
import { judge, type CellCounts } from '../src/gate/gate.js';
import { DEFAULT_POLICY, policyOf, readPolicy } from '../src/gate/policy.js';
import { gateLines } from '../src/gate/render.js';
import { simulateNull } from '../src/gate/simulate.js';
import { allocate, sampleSubjects } from '../src/prompts/sample.js';
import { sizeForBudget } from '../src/run/budget.js';
import { runDifferences } from '../src/run/config.js';
import { margin, pairedDeltas } from '../src/report/compare.js';
import { COMPARE_METRICS, compareMetric, metricDef, P_AT_K } from '../src/report/metrics.js';
import type { ResultRow } from '../src/store/db.js';
import { xorshift32 } from '../src/checkpoint-gen/weights.js';
import { answerRow } from './support/answer.js';

// The gate's statistics checked against definitions computed another way (direct sums, simulation), and the
// sample's allocation and choice.

/** P(X >= k), X ~ Binomial(n, p), by the plain sum of products (no logs): fine for small n. */
function tailBySum(n: number, k: number, p: number): number {
  let s = 0;
  for (let i = k; i <= n; i++) {
    let c = 1;
    for (let j = 0; j < i; j++) c = (c * (n - j)) / (j + 1);
    s += c * p ** i * (1 - p) ** (n - i);
  }
  return s;
}

test('exact McNemar: 5 losses of 5 is p = 1/32 one-sided and 0.0625 two-sided; tails agree with a direct sum', () => {
  assert.equal(mcnemarDrop(5, 0), 1 / 32);
  assert.equal(mcnemarTwoSided(5, 0), 0.0625);
  assert.equal(mcnemarDrop(0, 0), 1);
  for (const [n, k, p] of [
    [20, 14, 0.5],
    [30, 3, 0.2],
    [12, 12, 0.5],
    [40, 25, 0.7],
  ])
    assert.ok(Math.abs(binomialUpperTail(n, k, p) - tailBySum(n, k, p)) < 1e-12, `${n} ${k} ${p}`);
  // 300 above the mean of 20,000 fair coins is 4.24 standard deviations: about 1.1e-5.
  assert.ok(Math.abs(binomialUpperTail(20000, 10300, 0.5) - 1.14e-5) < 0.02e-5);
});

test("Holm's adjustment: worked example, monotone in rank, never below the raw p", () => {
  assert.deepEqual(
    holm([0.01, 0.04, 0.03, 0.2]).map((x) => Number(x.toFixed(10))),
    [0.04, 0.09, 0.09, 0.2],
  );
  const ps = [0.001, 0.2, 0.015, 0.9, 0.04, 0.0001];
  const adj = holm(ps);
  ps.forEach((p, i) => assert.ok(adj[i] >= p));
  assert.ok(Math.abs(normalQuantile(0.975) - 1.959964) < 1e-5);
});

test('Agresti-Min interval: the hand value, and at least nominal coverage at n = 30 by simulation', () => {
  const [lo, hi] = pairedDeltaInterval(100, 10, 2, 0.95);
  assert.ok(Math.abs(lo - -0.14602) < 1e-4 && Math.abs(hi - -0.010842) < 1e-4, `${lo} ${hi}`);
  const r = xorshift32(7);
  const [pl, pg, n] = [0.1, 0.05, 30];
  let covered = 0;
  const draws = 4000;
  for (let s = 0; s < draws; s++) {
    let l = 0;
    let g = 0;
    for (let i = 0; i < n; i++) {
      const u = r();
      if (u < pl) l++;
      else if (u < pl + pg) g++;
    }
    const [a, b] = pairedDeltaInterval(n, l, g, 0.95);
    if (a <= pg - pl && pg - pl <= b) covered++;
  }
  assert.ok(covered / draws >= 0.93, `coverage ${covered / draws}`);
});

test('power of the exact test agrees with a simulation of it; the minimum detectable drop has the target power', () => {
  const [n, psi, d, alpha] = [150, 0.1, 0.06, 0.05 / 9];
  const exact = mcnemarPower(n, psi, d, alpha);
  const r = xorshift32(11);
  let rejected = 0;
  const draws = 3000;
  for (let s = 0; s < draws; s++) {
    let l = 0;
    let g = 0;
    for (let i = 0; i < n; i++) {
      if (r() >= psi) continue;
      if (r() < (psi + d) / (2 * psi)) l++;
      else g++;
    }
    if (mcnemarDrop(l, g) <= alpha) rejected++;
  }
  assert.ok(Math.abs(exact - rejected / draws) < 0.03, `exact ${exact} simulated ${rejected / draws}`);
  const mdd = minimumDetectableDrop(n, psi, alpha, 0.8);
  assert.ok(Math.abs(mcnemarPower(n, Math.max(psi, mdd), mdd, alpha) - 0.8) < 0.02);
  assert.ok(minimumDetectableDrop(300, psi, alpha, 0.8) < mdd, 'more queries see a smaller drop');
  assert.equal(minimumDetectableDrop(5, 0, alpha, 0.8), Number.POSITIVE_INFINITY);
  assert.equal(smallestSignificantSize(alpha), 8);
  // The numbers docs/GATE.md quotes: 150 queries at 5% discordance about 7 points, 300 about 4 (alpha 0.05 over 9).
  assert.equal(Math.round(100 * minimumDetectableDrop(150, 0.05, alpha, 0.8)), 7);
  assert.equal(Math.round(100 * minimumDetectableDrop(300, 0.05, alpha, 0.8)), 4);
});

const cell = (language: string, style: string, paired: number, losses: number, gains: number): CellCounts => ({
  language,
  style,
  style_a: style,
  style_b: style,
  paired,
  a_correct: paired / 2,
  b_correct: paired / 2 - losses + gains,
  losses,
  gains,
  near_ties: 0,
});

test('judge: a large significant drop regresses, a small cell is inconclusive, a powered quiet cell passes', () => {
  const g = judge([cell('ja', 'word', 200, 60, 2), cell('en', 'word', 5, 5, 0), cell('ar', 'word', 300, 6, 5)], { ...DEFAULT_POLICY });
  assert.deepEqual(
    g.cells.map((c) => c.outcome),
    ['regressed', 'inconclusive', 'pass'],
  );
  assert.equal(g.outcome, 'regressed');
  assert.equal(g.family_size, 4);
  assert.equal(g.cells[1].mdd_points, null);
  const quiet = judge([cell('en', 'word', 5, 5, 0)], { ...DEFAULT_POLICY });
  assert.equal(quiet.outcome, 'inconclusive', 'five of five lost: p = 1/32 per test, but 0.0625 after Holm over two');
  // A drop within the tolerance of the allowed one is a tie: not regressed.
  const edge = judge([cell('en', 'word', 100, 30, 25)], { ...DEFAULT_POLICY, max_drop: { default: 5, languages: {} } });
  assert.equal(edge.cells[0].delta_points, -5);
  assert.notEqual(edge.cells[0].outcome, 'regressed');
});

test('null simulation: the family-wise false-alarm rate of 8 cells stays at or below alpha', () => {
  const cells = ['ar', 'en', 'ja', 'zh'].flatMap((language) => [0.08, 0.12].map((discordance) => ({ language, paired: 200, discordance })));
  const r = simulateNull(cells, { ...DEFAULT_POLICY, max_drop: { default: 0, languages: {} } }, 1000, 3);
  assert.ok(r.alarmsAnyDrop / r.simulations <= 0.05, `${r.alarmsAnyDrop}/${r.simulations}`);
  assert.ok(r.alarms <= r.alarmsAnyDrop);
});

test('the gate file: every field checked, one line naming the file and the field', () => {
  const bad: [unknown, RegExp][] = [
    [{ alpha: 2 }, /g\.json: alpha must be a number between 0 and 1, got 2$/],
    [{ power: 'high' }, /g\.json: power must be a number between 0 and 1, got "high"$/],
    [{ max_drop: { ja: 'x' } }, /g\.json: max_drop\.ja must be a number of points from 0 to 100, got "x"$/],
    [{ max_drop: -1 }, /g\.json: max_drop must be a number of points from 0 to 100, got -1$/],
    [{ styles: [] }, /g\.json: styles must be a non-empty list of style names, got \[\]$/],
    [{ styles: ['word', 'word'] }, /g\.json: styles must be a list without repeats/],
    [{ sample: { size: 0 } }, /g\.json: sample\.size must be a positive integer, got 0$/],
    [{ sample: { size: 10, sed: 1 } }, /g\.json: unknown field "sample\.sed"/],
    [{ alpah: 0.05 }, /g\.json: unknown field "alpah"/],
    [[1], /g\.json: the gate file must be a JSON object/],
  ];
  for (const [value, message] of bad)
    assert.throws(
      () => policyOf(value, 'g.json'),
      (e: Error) => message.test(e.message) && !e.message.includes('\n'),
    );
  const p = policyOf({ alpha: 0.01, max_drop: { default: 3, ja: 8 }, sample: { size: 100 } }, 'g.json');
  assert.deepEqual([p.alpha, p.max_drop, p.sample], [0.01, { default: 3, languages: { ja: 8 } }, { size: 100, seed: 1 }]);
});

test('sample: allocation proportional by largest remainders; the choice depends on the seed, not the input order', () => {
  const counts = [
    { relation: 'P19', count: 60 },
    { relation: 'P36', count: 30 },
    { relation: 'P103', count: 10 },
  ];
  assert.deepEqual(Object.fromEntries(allocate(counts, 10)), { P19: 6, P36: 3, P103: 1 });
  assert.deepEqual(Object.fromEntries(allocate(counts, 11)), { P19: 7, P36: 3, P103: 1 });
  assert.deepEqual(Object.fromEntries(allocate(counts, 500)), { P19: 60, P36: 30, P103: 10 });
  const rel = (n: number) => Array.from({ length: n }, (_, i) => `s${i}`);
  const input = counts.map((c) => ({ relation: c.relation, subjects: rel(c.count) }));
  const a = sampleSubjects('en', input, { size: 20, seed: 1 });
  const b = sampleSubjects(
    'en',
    input.map((r) => ({ ...r, subjects: [...r.subjects].reverse() })),
    { size: 20, seed: 1 },
  );
  assert.equal(a.size, 20);
  assert.deepEqual([...a].sort(), [...b].sort());
  assert.notDeepEqual([...sampleSubjects('en', input, { size: 20, seed: 2 })].sort(), [...a].sort());
  assert.notDeepEqual([...sampleSubjects('ja', input, { size: 20, seed: 1 })].sort(), [...a].sort());
});

test('the order of a list is not identity: languages and styles in another order do not refuse compare, resume or merge', () => {
  const at = (languages: string[], styles: string[]) => ({ options: { languages, styles }, checkpoint: {}, dataset: {} });
  for (const purpose of ['compare', 'merge', 'resume'] as const) {
    assert.deepEqual(runDifferences(purpose, at(['en', 'ja'], ['word', 'entity']), at(['ja', 'en'], ['entity', 'word'])), []);
    assert.equal(runDifferences(purpose, at(['en', 'ja'], ['word']), at(['en'], ['word'])).length, 1);
  }
});

/** One stored answer: gold "Paris" at `goldScore` against "Rome" at `otherScore`. */
function answer(subject: string, goldScore: number, otherScore: number): ResultRow {
  const top = [
    { label: 'Paris', score: goldScore },
    { label: 'Rome', score: otherScore },
  ].sort((x, y) => y.score - x.score);
  return answerRow({
    subject,
    lineids: [0],
    top,
    gold_rank: goldScore >= otherScore ? 1 : 2,
    gold_score: goldScore,
    candidates: 2,
    tie: false,
    template_main: true,
  });
}

test('floats across machines: a discordant pair within the score tolerance of flipping is a near tie, for neither side', () => {
  const a = [answer('s1', -1.0, -1.0000001), answer('s2', -1, -3), answer('s3', -1, -3)];
  const b = [answer('s1', -1.0000001, -1.0), answer('s2', -3, -1), answer('s3', -1, -3)];
  const [d] = pairedDeltas(a, b, [{ a: 'word', b: 'word' }], 1e-5);
  assert.deepEqual([d.paired, d.losses, d.gains, d.near_ties], [3, 1, 0, 1]);
  const [strict] = pairedDeltas(a, b, [{ a: 'word', b: 'word' }], 0);
  assert.deepEqual([strict.losses, strict.near_ties], [2, 0]);
  assert.equal(margin(answer('x', -1, -1.5)), 0.5);
  assert.equal(margin(answer('x', -2, -1.5)), -0.5);
});

test('at rank k the margin is to the k-th best other candidate, and pairing at P@k sets aside near ties at that boundary', () => {
  const ranked = (subject: string, gold: number, others: number[]) =>
    answerRow({
      subject,
      top: [{ label: 'Paris', score: gold }, ...others.map((score, i) => ({ label: `c${i}`, score }))].sort((x, y) => y.score - x.score),
      gold_rank: 1 + others.filter((o) => o > gold).length,
      gold_score: gold,
      candidates: others.length + 1,
    });
  const first = ranked('x', -1, [-1.25, -1.5, -2]);
  assert.deepEqual(
    [1, 2, 3, 4].map((k) => margin(first, k)),
    [0.25, 0.5, 1, Infinity],
  );
  const third = ranked('x', -1.5, [-1, -1.25, -2]);
  assert.deepEqual(
    [1, 2, 3].map((k) => margin(third, k)),
    [-0.5, -0.25, 0.5],
  );
  assert.equal(margin(third), margin(third, 1));
  // At P@5: s1 A ranks the gold 5th by 1e-7 over the 5th other candidate, B 6th (a near tie); s2 A 3rd, B 7th (a
  // loss at 5, while both miss at 1); s3 both 1st.
  const others = [-1, -1.1, -1.2, -1.3, -1.4, -1.5, -1.6];
  const a = [ranked('s1', -1.3999999, others), ranked('s2', -1.15, others), ranked('s3', 0, others)];
  const b = [ranked('s1', -1.4000001, others), ranked('s2', -1.55, others), ranked('s3', 0, others)];
  const at5 = metricDef('p_at_5');
  const [d] = pairedDeltas(a, b, [{ a: 'word', b: 'word' }], 1e-5, at5);
  assert.deepEqual([d.paired, d.a_correct, d.b_correct, d.losses, d.gains, d.near_ties], [3, 3, 1, 1, 0, 1]);
  assert.deepEqual([d.value_a, d.value_b], [1, 1 / 3]);
  const [strict] = pairedDeltas(a, b, [{ a: 'word', b: 'word' }], 0, at5);
  assert.deepEqual([strict.losses, strict.near_ties], [2, 0]);
  const [at1] = pairedDeltas(a, b, [{ a: 'word', b: 'word' }], 1e-5);
  assert.deepEqual([at1.a_correct, at1.losses, at1.near_ties], [1, 0, 0]);
  assert.throws(() => pairedDeltas(a, b, [], 1e-5, metricDef('mrr')), /metric "mrr" is not one/);
});

test('past a truncated top list the margin at rank k is bounded by the last stored score: a hit ending the list is near; nothing to bound refuses a gate', () => {
  // Twenty candidates, five stored (with gold "Paris" when it ranks within 5): the 5th other one lies past the list.
  const stored = (subject: string, gold: number, goldRank: number) => {
    const others = [-1, -1.1, -1.2, -1.3, -1.4, -1.5].map((score, i) => ({ label: `c${i}`, score }));
    return answerRow({
      subject,
      top: [...(goldRank <= 5 ? [{ label: 'Paris', score: gold }] : []), ...others].sort((x, y) => y.score - x.score).slice(0, 5),
      gold_rank: goldRank,
      gold_score: gold,
      candidates: 20,
    });
  };
  const leads = stored('x', 0, 1);
  assert.deepEqual([margin(leads, 1), margin(leads, 4), margin(leads, 5)], [1, 1.3, 1.3]);
  const ends = stored('s1', -1.35, 5);
  assert.ok(Math.abs(margin(ends, 5)) < 1e-12);
  // At P@5: A's gold ends its list (the 6th candidate may score within float noise of it), B's ranks 7th by far.
  const b = stored('s1', -9, 7);
  const at5 = metricDef('p_at_5');
  const [d] = pairedDeltas([ends], [b], [{ a: 'word', b: 'word' }], 1e-5, at5);
  assert.deepEqual([d.a_correct, d.b_correct, d.losses, d.near_ties], [1, 0, 0, 1]);
  // At P@10 neither B's gold (7th) nor the 10th other candidate is stored: nothing bounds it, a gate refuses.
  const at10 = metricDef('p_at_10');
  assert.ok(Number.isNaN(margin(b, 10)));
  const c = stored('s1', -9, 12);
  assert.throws(
    () => pairedDeltas([b], [c], [{ a: 'word', b: 'word' }], 1e-5, at10),
    /compare at P@10: the answer en\/P19 "s1" stores 5 of its 20 candidates, too few to tell whether it is a near tie at rank 10; a gate at P@10 needs runs that store at least 10 per answer/,
  );
  assert.deepEqual(
    pairedDeltas([b], [c], [{ a: 'word', b: 'word' }], -1, at10).map((x) => [x.a_correct, x.b_correct, x.losses]),
    [[1, 0, 1]],
  );
  // The gate's line says such a near tie is one the list cannot rule out, not one measured within the tolerance.
  const compared = { a: 'A', b: 'B', pairs: [], left_out: [], unpaired: { a: 0, b: 0 }, paired: 1, overridden: [], gaps: [] };
  const lines = gateLines(judge([d], DEFAULT_POLICY), { ...compared, metric: { key: 'p_at_5', label: 'P@5' } });
  assert.ok(
    lines.includes(
      'near ties: 1 discordant pairs within 0.00001 of flipping at P@5 (or hits ending their stored top list, which cannot rule that out) counted for neither side',
    ),
    lines.join('\n'),
  );
  assert.ok(
    gateLines(judge([d], DEFAULT_POLICY), { ...compared, metric: { key: 'p_at_1', label: 'P@1' } }).includes(
      'near ties: 1 discordant pairs within 0.00001 of flipping counted for neither side',
    ),
  );
});

test('compare takes the metrics with a per-answer hit at a rank: every P@k of the table, none of the averages; the gate file may name one', () => {
  assert.deepEqual(
    COMPARE_METRICS.map((d) => d.key),
    P_AT_K.map((k) => `p_at_${k}`),
  );
  for (const key of ['mrr', 'macro_p_at_1', 'entity_coverage', 'p_at_1_covered', 'ties'])
    assert.throws(
      () => compareMetric(key),
      (e: Error) => e.message.startsWith(`--metric must be one of ${COMPARE_METRICS.map((d) => d.key).join(', ')}`) && e.message.endsWith(`got "${key}"`),
    );
  assert.equal(compareMetric('p_at_10').hitAt, 10);
  assert.equal(policyOf({}, 'g.json').metric, 'p_at_1');
  assert.equal(policyOf({ metric: 'p_at_5' }, 'g.json').metric, 'p_at_5');
  assert.throws(() => policyOf({ metric: 'mrr' }, 'g.json'), /g\.json: metric must be one of p_at_1, .*got "mrr"$/);
});

test('budget: the sample size is the budget over the summed per-query seconds of the languages, rounded down', () => {
  assert.equal(sizeForBudget(10, { en: 0.5, ja: 1.0 }), 400);
  assert.equal(sizeForBudget(0.01, { en: 1 }), 0);
});

test('examples/ci: the gate file parses, and both CI jobs run the candidate on its sample', () => {
  const root = join(import.meta.dirname, '..', 'examples', 'ci');
  const p = readPolicy(join(root, 'gate.json'));
  assert.ok(p.sample);
  for (const f of ['github-actions.yml', 'gitlab-ci.yml']) {
    const text = readFileSync(join(root, f), 'utf8');
    assert.match(text, new RegExp(`mlama run --model checkpoint --data data --sample ${p.sample.size} --seed ${p.sample.seed} --name candidate`), f);
    assert.match(text, /mlama compare baseline candidate --db results\/gate\.sqlite --gate gate\.json --format junit/, f);
  }
});
