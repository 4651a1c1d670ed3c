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

/** A fraction as a percentage rounded to one decimal, as a number (a table cell that aligns as one). */
export const percent = (x: number): number => Number((100 * x).toFixed(1));

/** A fraction as percentage text with one decimal; '-' for a value that is not defined. */
export const pct = (x: number | null | undefined): string => (x === null || x === undefined ? '-' : (100 * x).toFixed(1));
