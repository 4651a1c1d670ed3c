// Means, grouping and percentages for the reports and tools: one copy of each, imported from the ground floor.

/** The arithmetic mean; null for an empty list (an average of nothing is undefined, not 0). */
export function mean(xs: readonly number[]): number | null {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

/** The mean of the defined values; null when none is (an undefined value is not a 0). */
export function meanOfDefined(xs: readonly (number | string | null | undefined)[]): number | null {
  return mean(xs.filter((x) => x !== null && x !== undefined).map(Number));
}

/** Groups in first-seen order by a composite key; sorting is left to the caller. */
export function groupBy<T>(xs: Iterable<T>, key: (x: T) => string[]): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const k = JSON.stringify(key(x));
    const g = m.get(k);
    if (g) g.push(x);
    else m.set(k, [x]);
  }
  return m;
}

/**
 * A fraction as percentage text with one decimal, whole numbers too ("50.0" beside "33.3"); '-' for a value that
 * is not defined. A difference that rounds to zero from below is a tie, "0.0", not "-0.0".
 */
export const pct = (x: number | null | undefined): string => {
  if (x === null || x === undefined) return '-';
  const s = (100 * x).toFixed(1);
  return s === '-0.0' ? '0.0' : s;
};
