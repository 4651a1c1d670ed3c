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

export const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/** Language, then style, then relation (numerically: P17 before P101). */
export function byKey(x: { language: string; style: string; relation?: string }, y: { language: string; style: string; relation?: string }): number {
  return x.language.localeCompare(y.language) || x.style.localeCompare(y.style) || (x.relation ?? '').localeCompare(y.relation ?? '', 'en', { numeric: true });
}
