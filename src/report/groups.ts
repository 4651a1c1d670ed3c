/** Language, then style, then relation (numerically: P17 before P101). */
export function byKey(x: { language: string; style: string; relation?: string }, y: { language: string; style: string; relation?: string }): number {
  return x.language.localeCompare(y.language) || x.style.localeCompare(y.style) || (x.relation ?? '').localeCompare(y.relation ?? '', 'en', { numeric: true });
}
