import type { LabelIndex } from '../data/labels.js';

/**
 * A small entity vocabulary in mLUKE's shape, built from the data's own labels: one id per Wikidata entity,
 * shared by its titles in several languages. Like a real Wikipedia-derived vocabulary it is incomplete: each
 * (entity, language) title is kept with a fixed, hash-decided probability (English more often than the rest),
 * so lookups miss in the query's language and the Wikidata-id fallback has something to find.
 */
export function buildEntityVocab(index: LabelIndex, opts: { seed: number; keepEnglish?: number; keepOther?: number; fillerTo?: number }): [string, number][] {
  const entries: [string, number][] = [
    ['[PAD]', 0],
    ['[UNK]', 1],
    ['[MASK]', 2],
  ];
  let next = 3;
  for (const uri of [...index.byUri.keys()].sort()) {
    const kept: string[] = [];
    for (const [lang, label] of [...index.byUri.get(uri)!.entries()].sort()) {
      const rate = lang === 'en' ? (opts.keepEnglish ?? 0.85) : (opts.keepOther ?? 0.5);
      if (unitHash(`${opts.seed}|${uri}|${lang}`) < rate) kept.push(`${lang}:${label}`);
    }
    if (kept.length === 0) continue;
    for (const k of kept) entries.push([k, next]);
    next += 1;
  }
  // Filler entities give a full-size vocabulary for benchmarks; titles no dataset label can match.
  for (; next < (opts.fillerTo ?? 0); next++) entries.push([`xx:\u0000filler ${next}`, next]);
  // mLUKE's conversion appends [MASK2] after the loaded vocabulary: its id is read, never assumed.
  entries.push(['[MASK2]', next]);
  return entries;
}

/** FNV-1a of a string, mapped to [0, 1). */
export function unitHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h / 2 ** 32;
}
