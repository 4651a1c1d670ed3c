import { fail } from '../errors.js';
import type { ResultRow } from '../store/db.js';
import type { CellCounts } from '../gate/gate.js';
import { mcnemarTwoSided } from '../gate/stats.js';
import { metricDef, type MetricDef } from './metrics.js';

export { mcnemarTwoSided as mcnemarExact } from '../gate/stats.js';

/** A cell of a comparison: the gate's counts plus each run's value of the compared metric and the two-sided p of a report. */
export interface PairedDelta extends CellCounts {
  /** The compared metric (P@1 unless asked) over the paired answers; JSON names them by its key (`p_at_1_a`). */
  value_a: number;
  value_b: number;
  /** B minus A, in points: (gains - losses) / paired, near ties counted for neither side. */
  delta_points: number;
  /** Queries A answered and B did not, and the reverse (the losses and gains). */
  a_only: number;
  b_only: number;
  /** Exact two-sided McNemar test on the discordant pairs. */
  p_value: number;
}

/** Which styles of A pair with which of B: one named pair (`A:entity B:word`), or every style both have. */
export interface StylePairing {
  pairs: { a: string; b: string }[];
  /** Styles left out, each with why. */
  leftOut: string[];
}

export function pairStyles(
  stylesA: string[],
  stylesB: string[],
  asked: { a?: string; b?: string; only?: string[] },
  names: { a: string; b: string },
): StylePairing {
  if (asked.a !== undefined || asked.b !== undefined) {
    const a = asked.a ?? (asked.b !== undefined && stylesA.includes(asked.b) ? asked.b : stylesA.length === 1 ? stylesA[0] : undefined);
    const b = asked.b ?? (asked.a !== undefined && stylesB.includes(asked.a) ? asked.a : stylesB.length === 1 ? stylesB[0] : undefined);
    if (!a || !b) return { pairs: [], leftOut: [] };
    const leftOut = [...stylesA.filter((s) => s !== a).map((s) => `${names.a}:${s}`), ...stylesB.filter((s) => s !== b).map((s) => `${names.b}:${s}`)];
    // A run compared with itself (compare a a:word) lists each style it leaves out once.
    return { pairs: [{ a, b }], leftOut: [...new Set(leftOut)] };
  }
  const common = stylesA.filter((s) => stylesB.includes(s) && (!asked.only || asked.only.includes(s))).sort();
  const leftOut = [
    ...stylesA
      .filter((s) => !common.includes(s))
      .map((s) => `${names.a}:${s} (${stylesB.includes(s) ? "not in the gate's styles" : `"${names.b}" has no ${s}`})`),
    ...stylesB.filter((s) => !common.includes(s) && !stylesA.includes(s)).map((s) => `${names.b}:${s} ("${names.a}" has no ${s})`),
  ];
  return { pairs: common.map((s) => ({ a: s, b: s })), leftOut };
}

/**
 * How close an answer's hit at rank k is to flipping: the gold's score minus the k-th best other candidate's
 * (the one the gold must stay above to rank within k; negative when it does not). At k = 1 that is the best
 * other candidate. Infinity when it cannot flip: no ranking, or every candidate stored and fewer than k others.
 * Past a stored top list that holds the gold, the k-th other scores at most the list's last entry, so the gold's
 * lead over that entry bounds the margin from below: a hit that ends the list may be near and counts as near (the
 * list cannot rule the flip out; it was counted as clear). NaN when nothing bounds it: the gold and the k-th other
 * both lie past the list (P@100 of runs that store 10).
 */
export function margin(r: ResultRow, k = 1): number {
  if (!r.covered || r.top.length === 0) return Infinity;
  const other = r.top.filter((t) => !r.golds.includes(t.label))[k - 1];
  if (other) return r.gold_score - other.score;
  if (r.top.length >= r.candidates) return Infinity;
  return r.gold_rank <= r.top.length ? r.gold_score - r.top[r.top.length - 1].score : Number.NaN;
}

/** A near tie at rank k that the stored lists cannot tell refuses a gate (one line naming the answer). */
function unknowable(r: ResultRow, k: number, label: string): never {
  return fail(
    `compare at ${label}: the answer ${r.language}/${r.relation} "${r.subject}" stores ${r.top.length} of its ${r.candidates} candidates, too few to tell whether it is a near tie at rank ${k}; a gate at ${label} needs runs that store at least ${k} per answer (--protocol authors-script stores 100), or compare without a gate`,
  );
}

/**
 * Paired cells of A and B: each query (language, relation, template, subject) A answered in style `a` against
 * B's answer in style `b`, each answer's hit at the metric's rank (P@1 by default). A discordant pair where
 * either answer is within `tolerance` of flipping at that rank is a near tie, counted for neither side: another
 * machine's float noise could have decided it. A negative tolerance sets none aside.
 */
export function pairedDeltas(
  rowsA: ResultRow[],
  rowsB: ResultRow[],
  pairs: { a: string; b: string }[] = [],
  tolerance = -1,
  metric: MetricDef = metricDef('p_at_1'),
): PairedDelta[] {
  const k = metric.hitAt ?? fail(`compare pairs hits at a rank; metric "${metric.key}" is not one`);
  const hit = (r: ResultRow) => metric.perQuery(r) === 1;
  if (pairs.length === 0) pairs = [...new Set(rowsA.map((r) => r.style))].filter((s) => rowsB.some((r) => r.style === s)).map((s) => ({ a: s, b: s }));
  const out: PairedDelta[] = [];
  for (const p of pairs) {
    // The golds are part of the question: over different data (--force) a query whose answer changed is not paired.
    const key = (r: ResultRow) => JSON.stringify([r.language, r.relation, r.template, r.subject, [...r.golds].sort()]);
    const bByKey = new Map(rowsB.filter((r) => r.style === p.b).map((r) => [key(r), r]));
    const groups = new Map<string, CellCounts>();
    for (const ra of rowsA) {
      if (ra.style !== p.a) continue;
      const rb = bByKey.get(key(ra));
      if (!rb) continue;
      const style = p.a === p.b ? p.a : `${p.a} vs ${p.b}`;
      let g = groups.get(ra.language);
      if (!g) {
        g = { language: ra.language, style, style_a: p.a, style_b: p.b, paired: 0, a_correct: 0, b_correct: 0, losses: 0, gains: 0, near_ties: 0 };
        groups.set(ra.language, g);
      }
      const ca = hit(ra);
      const cb = hit(rb);
      g.paired++;
      g.a_correct += +ca;
      g.b_correct += +cb;
      if (ca === cb) continue;
      const [ma, mb] = [margin(ra, k), margin(rb, k)];
      if (tolerance >= 0)
        for (const [m, r] of [
          [ma, ra],
          [mb, rb],
        ] as const)
          if (Number.isNaN(m)) unknowable(r, k, metric.label);
      if (Math.abs(ma) <= tolerance || Math.abs(mb) <= tolerance) g.near_ties++;
      else if (ca) g.losses++;
      else g.gains++;
    }
    for (const g of groups.values())
      out.push({
        ...g,
        value_a: g.a_correct / g.paired,
        value_b: g.b_correct / g.paired,
        delta_points: (100 * (g.gains - g.losses)) / g.paired,
        a_only: g.losses,
        b_only: g.gains,
        p_value: mcnemarTwoSided(g.losses, g.gains),
      });
  }
  return out.sort((x, y) => x.language.localeCompare(y.language) || x.style.localeCompare(y.style));
}

/**
 * Why a gate cannot pass on these runs, whatever the deltas say: a gate fails closed. Both runs must be complete
 * (a baseline that stopped early never asked what it lacks, so a regression there would go unchecked) and B must
 * hold every (language, style) query that A holds in the styles compared; otherwise a regression could hide in
 * what B lacks.
 */
export function gateGaps(
  a: { name: string; rows: ResultRow[]; status: string; planned: number },
  b: { name: string; status: string; stored: number; planned: number },
  deltas: PairedDelta[],
  pairs: { a: string; b: string }[],
): string[] {
  const gaps: string[] = [];
  if (a.status !== 'complete') gaps.push(`baseline run "${a.name}" is ${a.status} (${a.rows.length}/${a.planned} answers)`);
  if (b.status !== 'complete') gaps.push(`run "${b.name}" is ${b.status} (${b.stored}/${b.planned} answers)`);
  const styleOf = new Map(pairs.map((p) => [p.a, p.a === p.b ? p.a : `${p.a} vs ${p.b}`]));
  const inA = new Map<string, number>();
  for (const r of a.rows) {
    const s = styleOf.get(r.style);
    if (s !== undefined) inA.set(`${r.language}/${s}`, (inA.get(`${r.language}/${s}`) ?? 0) + 1);
  }
  const paired = new Map(deltas.map((d) => [`${d.language}/${d.style}`, d.paired]));
  const lacking = [...inA.keys()].filter((k) => !paired.has(k)).sort();
  if (lacking.length) gaps.push(`run "${b.name}" lacks ${lacking.join(', ')} that "${a.name}" has`);
  for (const [k, n] of [...inA].sort()) {
    const p = paired.get(k);
    if (p !== undefined && p < n) gaps.push(`run "${b.name}" answers ${p} of the ${n} ${k} queries of "${a.name}"`);
  }
  return gaps;
}

/** Every cell's pairs together: the exact McNemar test on the summed discordant pairs (each pair its own stratum). */
export function pooledDelta(deltas: PairedDelta[]): { cells: number; paired: number; losses: number; gains: number; delta_points: number; p_value: number } {
  const paired = deltas.reduce((s, d) => s + d.paired, 0);
  const losses = deltas.reduce((s, d) => s + d.losses, 0);
  const gains = deltas.reduce((s, d) => s + d.gains, 0);
  return { cells: deltas.length, paired, losses, gains, delta_points: paired ? (100 * (gains - losses)) / paired : 0, p_value: mcnemarTwoSided(losses, gains) };
}

export function pooledLine(p: ReturnType<typeof pooledDelta>): string {
  return `pooled over ${p.cells} cells: ${p.paired} pairs, A only ${p.losses}, B only ${p.gains}, B-A ${p.delta_points.toFixed(1)} pts, exact McNemar p=${p.p_value < 0.001 ? p.p_value.toExponential(1) : p.p_value.toPrecision(2)}`;
}
