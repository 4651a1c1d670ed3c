import { mcnemarDrop, mcnemarTwoSided, holm, pairedDeltaInterval } from './stats.js';
import { minimumDetectableDrop, smallestSignificantSize } from './power.js';
import { maxDropFor, type GatePolicy } from './policy.js';

/** The paired answers of one cell (language, style pair): counts only. */
export interface CellCounts {
  language: string;
  /** The style pair's label: the style when both sides used it, else "A-style vs B-style". */
  style: string;
  style_a: string;
  style_b: string;
  paired: number;
  a_correct: number;
  b_correct: number;
  /** A right, B wrong. */
  losses: number;
  /** A wrong, B right. */
  gains: number;
  /** Discordant pairs counted as ties because an answer was within the score tolerance of flipping. */
  near_ties: number;
}

export type Outcome = 'pass' | 'regressed' | 'inconclusive';

export interface Verdict {
  /** (gains - losses) / paired, in points. */
  delta_points: number;
  ci_points: [number, number];
  /** Exact McNemar, one-sided for a drop; the gate decides on its Holm-adjusted value. */
  p_drop: number;
  p_two_sided: number;
  p_holm: number;
  /** Discordant pairs per paired query: the planning discordance of the power calculation. */
  discordance: number;
  max_drop_points: number;
  /** Smallest drop detected with the policy's power at alpha / family size; null when none can be. */
  mdd_points: number | null;
  outcome: Outcome;
  reason: string;
}

export type CellVerdict = CellCounts & Verdict;

export interface GateResult {
  alpha: number;
  power: number;
  confidence: number;
  /** Cells plus the pooled test: the family Holm's correction runs over. */
  family_size: number;
  /** Holm's first step, alpha / family size: what a single regressed cell must reach. */
  per_test_alpha: number;
  /** Fewest paired queries at which a cell can reach per_test_alpha at all. */
  smallest_significant_size: number;
  tolerance: number;
  cells: CellVerdict[];
  pooled: Omit<CellCounts, 'language' | 'style' | 'style_a' | 'style_b'> & Verdict & { cells: number };
  outcome: Outcome;
  counts: Record<Outcome, number>;
}

/** Differences of decision values within this are ties (the same runs give the same outcome on every machine). */
const EPS = 1e-9;

const pts = (x: number) => Number((100 * x).toFixed(6));

/** One cell's verdict given its Holm-adjusted p; `m` is the family size. */
function verdict(c: Omit<CellCounts, 'language' | 'style' | 'style_a' | 'style_b'>, pHolm: number, maxDrop: number, policy: GatePolicy, m: number): Verdict {
  const n = c.paired;
  const delta = n ? (c.gains - c.losses) / n : 0;
  const discordance = n ? (c.losses + c.gains) / n : 0;
  const perTest = policy.alpha / m;
  const mdd = minimumDetectableDrop(n, discordance, perTest, policy.power);
  const [lo, hi] = pairedDeltaInterval(n, c.losses, c.gains, 1 - policy.alpha);
  const base = {
    delta_points: pts(delta),
    ci_points: [pts(lo), pts(hi)] as [number, number],
    p_drop: mcnemarDrop(c.losses, c.gains),
    p_two_sided: mcnemarTwoSided(c.losses, c.gains),
    p_holm: pHolm,
    discordance,
    max_drop_points: maxDrop,
    mdd_points: Number.isFinite(mdd) ? pts(mdd) : null,
  };
  const dropped = base.delta_points < -maxDrop - EPS;
  if (regressed(base.delta_points, pHolm, maxDrop, policy.alpha))
    return {
      ...base,
      outcome: 'regressed',
      reason: `dropped ${(-base.delta_points).toFixed(1)} points (more than ${maxDrop}), Holm p=${fmtP(pHolm)} <= ${policy.alpha}`,
    };
  const need = smallestSignificantSize(perTest);
  if (!Number.isFinite(mdd))
    return {
      ...base,
      outcome: 'inconclusive',
      reason: `${n} paired queries cannot show a drop at alpha ${fmtP(perTest)} with power ${policy.power} (a cell needs at least ${need} discordant pairs, all losses)`,
    };
  if (base.mdd_points! > maxDrop + EPS)
    return {
      ...base,
      outcome: 'inconclusive',
      reason: `smallest detectable drop ${base.mdd_points!.toFixed(1)} points at ${n} paired queries is larger than the allowed ${maxDrop}`,
    };
  return {
    ...base,
    outcome: 'pass',
    reason: dropped ? `dropped ${(-base.delta_points).toFixed(1)} points, not significantly (Holm p=${fmtP(pHolm)})` : 'within the allowed drop',
  };
}

/** The regression rule: a significant drop (Holm-adjusted) larger than the allowed one; within EPS is a tie. */
export function regressed(deltaPoints: number, pHolm: number, maxDrop: number, alpha: number): boolean {
  return pHolm <= alpha + EPS && deltaPoints < -maxDrop - EPS;
}

/** Holm-adjusted one-sided p values of the cells, then of the pooled test (the last). */
export function familyP(cells: { losses: number; gains: number }[]): number[] {
  const losses = cells.reduce((s, c) => s + c.losses, 0);
  const gains = cells.reduce((s, c) => s + c.gains, 0);
  // The pooled test is the Mantel-Haenszel test for matched pairs: each pair its own stratum, which reduces to
  // McNemar on the summed discordant pairs; it sees a drop spread thinly over many cells.
  return holm([...cells.map((c) => mcnemarDrop(c.losses, c.gains)), mcnemarDrop(losses, gains)]);
}

export function fmtP(p: number): string {
  return p < 0.001 ? p.toExponential(1) : p.toPrecision(2);
}

/** The gate over every cell: Holm over the cells and the pooled test, three outcomes per cell and overall. */
export function judge(cells: CellCounts[], policy: GatePolicy): GateResult {
  const sum = (f: (c: CellCounts) => number) => cells.reduce((s, c) => s + f(c), 0);
  const pooledCounts = {
    paired: sum((c) => c.paired),
    a_correct: sum((c) => c.a_correct),
    b_correct: sum((c) => c.b_correct),
    losses: sum((c) => c.losses),
    gains: sum((c) => c.gains),
    near_ties: sum((c) => c.near_ties),
  };
  const m = cells.length + 1;
  const adjusted = familyP(cells);
  const judged = cells.map((c, i) => ({ ...c, ...verdict(c, adjusted[i], maxDropFor(policy, c.language), policy, m) }));
  const pooled = { ...pooledCounts, ...verdict(pooledCounts, adjusted[cells.length], maxDropFor(policy, null), policy, m), cells: cells.length };
  const counts: Record<Outcome, number> = { pass: 0, regressed: 0, inconclusive: 0 };
  for (const c of judged) counts[c.outcome]++;
  const outcome: Outcome = counts.regressed || pooled.outcome === 'regressed' ? 'regressed' : counts.inconclusive ? 'inconclusive' : 'pass';
  return {
    alpha: policy.alpha,
    power: policy.power,
    confidence: 1 - policy.alpha,
    family_size: m,
    per_test_alpha: policy.alpha / m,
    smallest_significant_size: smallestSignificantSize(policy.alpha / m),
    tolerance: policy.tolerance,
    cells: judged,
    pooled,
    outcome,
    counts,
  };
}

/** Exit codes of a gate: documented in docs/GATE.md (2 stays bad input, 3 a bug). */
export const GATE_EXIT: Record<Outcome, number> = { pass: 0, regressed: 1, inconclusive: 4 };
