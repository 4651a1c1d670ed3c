/**
 * The statistics of the regression gate, as pure functions on counts of paired answers (docs/GATE.md gives the
 * formulas in words and their references). A pair is one query answered by baseline A and candidate B: a loss
 * when A was right and B wrong, a gain when the reverse; only these discordant pairs carry information about a
 * change (McNemar 1947).
 */

/** log C(n, k), exact enough for n up to millions (summed logs would drift; lgamma is not in Math). */
function logChoose(n: number, k: number): number {
  return logFactorial(n) - logFactorial(k) - logFactorial(n - k);
}

const factorials: number[] = [0];
function logFactorial(n: number): number {
  if (n < 256) {
    while (factorials.length <= n) factorials.push(factorials[factorials.length - 1] + Math.log(factorials.length));
    return factorials[n];
  }
  // Stirling's series: its error at n >= 256 is below 1e-12.
  return n * Math.log(n) - n + 0.5 * Math.log(2 * Math.PI * n) + 1 / (12 * n) - 1 / (360 * n ** 3);
}

/** log of the Binomial(n, p) probability of k. */
function logBinom(n: number, k: number, p: number): number {
  if (p <= 0) return k === 0 ? 0 : -Infinity;
  if (p >= 1) return k === n ? 0 : -Infinity;
  return logChoose(n, k) + k * Math.log(p) + (n - k) * Math.log1p(-p);
}

/** P(X = k) for X ~ Binomial(n, p). */
export function binomialPmf(n: number, k: number, p: number): number {
  return Math.exp(logBinom(n, k, p));
}

/** P(X >= k) for X ~ Binomial(n, p), summed from the smaller side. */
export function binomialUpperTail(n: number, k: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  let s = 0;
  if (k > n * p) {
    for (let i = k; i <= n; i++) {
      const t = Math.exp(logBinom(n, i, p));
      s += t;
      if (t < s * 1e-17 && i > n * p) break;
    }
    return Math.min(1, s);
  }
  for (let i = k - 1; i >= 0; i--) {
    const t = Math.exp(logBinom(n, i, p));
    s += t;
    if (t < s * 1e-17 && i < n * p) break;
  }
  return Math.max(0, 1 - s);
}

/** Exact McNemar, two-sided: twice the smaller binomial tail of the discordant pairs at p = 1/2, at most 1. */
export function mcnemarTwoSided(losses: number, gains: number): number {
  const d = losses + gains;
  if (d === 0) return 1;
  return Math.min(1, 2 * binomialUpperTail(d, Math.max(losses, gains), 0.5));
}

/** Exact McNemar, one-sided for a drop: P(at least `losses` of the discordant pairs are losses | no change). */
export function mcnemarDrop(losses: number, gains: number): number {
  return binomialUpperTail(losses + gains, losses, 0.5);
}

/**
 * Holm's step-down adjustment (Holm 1979): the i-th smallest of m p values is multiplied by m - i + 1, and each
 * adjusted value is at least the one before it. Rejecting where the adjusted p <= alpha keeps the chance of any
 * false rejection in the family at or below alpha, whatever the dependence between the tests.
 */
export function holm(ps: number[]): number[] {
  const m = ps.length;
  const order = ps.map((p, i) => [p, i] as const).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const out = new Array<number>(m);
  let running = 0;
  order.forEach(([p, i], rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    out[i] = running;
  });
  return out;
}

/** The standard normal distribution function (Abramowitz and Stegun 7.1.26 for erf; error below 1.5e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/** The standard normal quantile, by bisection on normalCdf (60 halvings: far below the cdf's own error). */
export function normalQuantile(p: number): number {
  let lo = -40;
  let hi = 40;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (normalCdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * Confidence interval of the paired difference B - A in proportions, Agresti and Min (2005): the Wald interval
 * after adding 1/2 to each of the four cells of the 2x2 table (so n + 2 pairs). It keeps its coverage near the
 * nominal level at small n and at zero discordance, where the plain Wald interval collapses to a point.
 */
export function pairedDeltaInterval(n: number, losses: number, gains: number, confidence: number): [number, number] {
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const m = n + 2;
  const pl = (losses + 0.5) / m;
  const pg = (gains + 0.5) / m;
  const d = pg - pl;
  const se = Math.sqrt(Math.max(0, pl + pg - d * d) / m);
  return [Math.max(-1, d - z * se), Math.min(1, d + z * se)];
}
