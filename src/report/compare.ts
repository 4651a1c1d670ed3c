import type { ResultRow } from '../store/db.js';
import { correctAt } from './metrics.js';

export interface PairedDelta {
  language: string;
  style: string;
  paired: number;
  p_at_1_a: number;
  p_at_1_b: number;
  /** B minus A, in points (percentage points). */
  delta_points: number;
  /** Queries A answered and B did not, and the reverse. */
  a_only: number;
  b_only: number;
  /** Exact two-sided McNemar test on the discordant pairs. */
  p_value: number;
}

/** Exact McNemar: two-sided binomial test of min(b, c) among b + c discordant pairs at p = 1/2. */
export function mcnemarExact(b: number, c: number): number {
  const n = b + c;
  if (n === 0) return 1;
  const k = Math.min(b, c);
  // log-space binomial terms: n can be tens of thousands.
  let logC = 0;
  let cdf = 0;
  for (let i = 0; i <= k; i++) {
    if (i > 0) logC += Math.log(n - i + 1) - Math.log(i);
    cdf += Math.exp(logC - n * Math.LN2);
  }
  return Math.min(1, 2 * cdf);
}

export function pairedDeltas(a: ResultRow[], b: ResultRow[]): PairedDelta[] {
  const key = (r: ResultRow) => JSON.stringify([r.style, r.language, r.relation, r.template, r.subject]);
  const bByKey = new Map(b.map((r) => [key(r), r]));
  const groups = new Map<string, { language: string; style: string; n: number; a1: number; b1: number; aOnly: number; bOnly: number }>();
  for (const ra of a) {
    const rb = bByKey.get(key(ra));
    if (!rb) continue;
    const g = groups.get(`${ra.language}|${ra.style}`) ?? { language: ra.language, style: ra.style, n: 0, a1: 0, b1: 0, aOnly: 0, bOnly: 0 };
    groups.set(`${ra.language}|${ra.style}`, g);
    const ca = correctAt(ra, 1);
    const cb = correctAt(rb, 1);
    g.n++;
    g.a1 += +ca;
    g.b1 += +cb;
    if (ca && !cb) g.aOnly++;
    if (cb && !ca) g.bOnly++;
  }
  return [...groups.values()]
    .map((g) => ({
      language: g.language,
      style: g.style,
      paired: g.n,
      p_at_1_a: g.a1 / g.n,
      p_at_1_b: g.b1 / g.n,
      delta_points: (100 * (g.b1 - g.a1)) / g.n,
      a_only: g.aOnly,
      b_only: g.bOnly,
      p_value: mcnemarExact(g.aOnly, g.bOnly),
    }))
    .sort((x, y) => x.language.localeCompare(y.language) || x.style.localeCompare(y.style));
}

/**
 * Why a gate cannot pass on these runs, whatever the deltas say: a gate fails closed. Both runs must be complete
 * (a baseline that stopped early never asked what it lacks, so a regression there would go unchecked) and B must
 * hold every (language, style) query that A holds; otherwise a regression could hide in what B lacks.
 */
export function gateGaps(
  a: { name: string; rows: ResultRow[]; status: string; planned: number },
  b: { name: string; status: string; stored: number; planned: number },
  deltas: PairedDelta[],
): string[] {
  const gaps: string[] = [];
  if (a.status !== 'complete') gaps.push(`baseline run "${a.name}" is ${a.status} (${a.rows.length}/${a.planned} answers)`);
  if (b.status !== 'complete') gaps.push(`run "${b.name}" is ${b.status} (${b.stored}/${b.planned} answers)`);
  const inA = new Map<string, number>();
  for (const r of a.rows) inA.set(`${r.language}/${r.style}`, (inA.get(`${r.language}/${r.style}`) ?? 0) + 1);
  const paired = new Map(deltas.map((d) => [`${d.language}/${d.style}`, d.paired]));
  const lacking = [...inA.keys()].filter((k) => !paired.has(k)).sort();
  if (lacking.length) gaps.push(`run "${b.name}" lacks ${lacking.join(', ')} that "${a.name}" has`);
  for (const [k, n] of [...inA].sort()) {
    const p = paired.get(k);
    if (p !== undefined && p < n) gaps.push(`run "${b.name}" answers ${p} of the ${n} ${k} queries of "${a.name}"`);
  }
  return gaps;
}
