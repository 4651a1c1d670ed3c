import type { LabelIndex } from '../data/labels.js';
import type { EntityVocab } from './entityVocab.js';

export interface EntityLink {
  id: number | null;
  /**
   * 'direct': `<lang>:<label>`; 'fallback': the same Wikidata id's label in another language; 'refused': the
   * fallback found an id that another candidate of the same set holds (a homograph), so it was not used.
   */
  via: 'direct' | 'fallback' | 'refused' | 'none';
  key?: string;
}

export type EntityLinker = (language: string, label: string, uri?: string) => EntityLink;

/** The languages the fallback tries, in order: the query's language is tried directly first, then English, then the rest A-Z. */
export function fallbackOrder(language: string, languages: string[]): string[] {
  const rest = [...languages].filter((l) => l !== language && l !== 'en').sort();
  return languages.includes('en') && language !== 'en' ? ['en', ...rest] : rest;
}

/**
 * The paper's protocol looks a label up as `<lang>:<label>` in the query's language, and nothing else: that is
 * the default. With `fallback` (an option the run stores and the report names), a miss then tries the labels of
 * the same Wikidata id in the dataset's other languages in `fallbackOrder`: deterministic, and independent of
 * which language is evaluated first. Homographs are refused per candidate set (`refuseHomographs`).
 */
export function entityLinker(vocab: EntityVocab, labels: LabelIndex | null, fallback: boolean): EntityLinker {
  const orders = new Map<string, string[]>();
  return (language, label, uri) => {
    const key = `${language}:${label}`;
    const id = vocab.get(key);
    if (id !== undefined) return { id, via: 'direct', key };
    if (fallback && labels && uri) {
      const others = labels.byUri.get(uri);
      if (others) {
        let order = orders.get(language);
        if (!order) orders.set(language, (order = fallbackOrder(language, labels.languages)));
        for (const lang of order) {
          const other = others.get(lang);
          if (other === undefined) continue;
          const otherKey = `${lang}:${other}`;
          const otherId = vocab.get(otherKey);
          if (otherId !== undefined) return { id: otherId, via: 'fallback', key: otherKey };
        }
      }
    }
    return { id: null, via: 'none' };
  };
}

/**
 * A fallback link through another language's label can land on a homograph (en "quarterback" reaching the id of
 * "centre" through ar:وسط). Within one candidate set, a fallback id that another candidate with a different (or
 * unknown) Wikidata id also holds is refused: two objects sharing one entity id would tie and never rank apart.
 */
export function refuseHomographs(links: EntityLink[], uris: (string | undefined)[]): EntityLink[] {
  const holders = new Map<number, number[]>();
  links.forEach((l, i) => {
    if (l.id === null) return;
    const h = holders.get(l.id);
    if (h) h.push(i);
    else holders.set(l.id, [i]);
  });
  return links.map((l, i) => {
    if (l.via !== 'fallback' || l.id === null) return l;
    const clash = holders.get(l.id)!.some((j) => j !== i && (uris[j] === undefined || uris[j] !== uris[i]));
    return clash ? { id: null, via: 'refused', key: l.key } : l;
  });
}

/** How a candidate set's labels were linked, for the counts a run reports. */
export interface LinkCounts {
  direct: number;
  fallback: number;
  refused: number;
  none: number;
}

export function linkCounts(links: EntityLink[]): LinkCounts {
  const c: LinkCounts = { direct: 0, fallback: 0, refused: 0, none: 0 };
  for (const l of links) c[l.via]++;
  return c;
}

/** Keep only vocabulary keys whose title is a label of the data (the compact index). */
export function keysForLabels(labels: Set<string>): (key: string) => boolean {
  return (key) => {
    const colon = key.indexOf(':');
    return labels.has(colon === -1 ? key : key.slice(colon + 1));
  };
}
