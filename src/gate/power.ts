import { binomialPmf, binomialUpperTail, normalCdf, normalQuantile } from './stats.js';

/**
 * How large a drop the one-sided exact McNemar test can see at a given size: the power of the test, and the
 * minimum detectable drop (MDD) for a wanted power. A drop of D (in proportion) with discordance rate psi means
 * losses at rate (psi + D) / 2 and gains at (psi - D) / 2; a drop of D needs psi >= D.
 */

/** Past this many expected discordant pairs the normal approximation (Connor 1987) replaces the exact sum. */
const EXACT_UP_TO = 400;

/**
 * The fewest losses among d discordant pairs that reject at `alpha` (d + 1 where none can): the binomial tail at
 * p = 1/2 summed from the top in log space (2^-d underflows past d = 1074) until it passes alpha.
 */
function criticalLosses(d: number, alpha: number): number {
  const logAlpha = Math.log(alpha);
  let logTerm = -d * Math.LN2;
  let logTail = -Infinity;
  for (let k = d; k >= 0; k--) {
    const hi = Math.max(logTail, logTerm);
    const next = hi + Math.log(Math.exp(logTail - hi) + Math.exp(logTerm - hi));
    if (next > logAlpha) return k + 1;
    logTail = next;
    logTerm += Math.log(k / (d - k + 1));
  }
  return 0;
}

const critCache = new Map<string, number>();
function critical(d: number, alpha: number): number {
  const key = `${d}|${alpha}`;
  let c = critCache.get(key);
  if (c === undefined) {
    c = criticalLosses(d, alpha);
    critCache.set(key, c);
  }
  return c;
}

/** Power of the one-sided exact McNemar test at `alpha` with n pairs, discordance psi and drop D (proportions). */
export function mcnemarPower(n: number, psi: number, drop: number, alpha: number): number {
  if (n <= 0 || psi <= 0) return 0;
  if (n * psi > EXACT_UP_TO) {
    const z = normalQuantile(1 - alpha);
    return normalCdf((Math.sqrt(n) * drop - z * Math.sqrt(psi)) / Math.sqrt(Math.max(1e-12, psi - drop * drop)));
  }
  const q = Math.min(1, (psi + drop) / (2 * psi));
  const sd = Math.sqrt(n * psi * (1 - psi));
  const lo = Math.max(0, Math.floor(n * psi - 12 * sd - 2));
  const hi = Math.min(n, Math.ceil(n * psi + 12 * sd + 2));
  let power = 0;
  for (let d = lo; d <= hi; d++) {
    const crit = critical(d, alpha);
    if (crit > d) continue;
    const pd = psi >= 1 ? (d === n ? 1 : 0) : binomialPmf(n, d, psi);
    if (pd < 1e-15) continue;
    power += pd * binomialUpperTail(d, crit, q);
  }
  return Math.min(1, power);
}

/**
 * The smallest drop (proportion) the test detects with probability `power` at `alpha`, given n pairs and a
 * planning discordance psi (the observed one): a drop larger than psi brings its own discordance, so the rate
 * used is max(psi, D). Infinity when even a drop of every answer would not be detected: the cell is too small to
 * reach significance at this alpha.
 */
export function minimumDetectableDrop(n: number, psi: number, alpha: number, power: number): number {
  const at = (d: number) => mcnemarPower(n, Math.max(psi, d), d, alpha);
  if (at(1) < power) return Infinity;
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 22; i++) {
    const mid = (lo + hi) / 2;
    if (at(mid) >= power) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The fewest pairs at which a cell can reach significance at all: every pair a loss, 2^-n <= alpha. */
export function smallestSignificantSize(alpha: number): number {
  return Math.ceil(Math.log2(1 / alpha));
}
