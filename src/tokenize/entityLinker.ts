import type { LabelIndex } from '../data/labels.js';
import type { EntityVocab } from './entityVocab.js';

export interface EntityLink {
  id: number | null;
  /** 'direct': `<lang>:<label>`; 'fallback': the same Wikidata id's label in another language. */
  via: 'direct' | 'fallback' | 'none';
  key?: string;
}

export type EntityLinker = (language: string, label: string, uri?: string) => EntityLink;

/**
 * The authors look a label up as `<lang>:<label>` in the query's language. With `fallback` (on by default, and
 * reported), a miss then tries the labels of the same Wikidata id in the dataset's other languages, in a fixed
 * order, so the result does not depend on which language is evaluated first.
 */
export function entityLinker(vocab: EntityVocab, labels: LabelIndex | null, fallback: boolean): EntityLinker {
  return (language, label, uri) => {
    const key = `${language}:${label}`;
    const id = vocab.get(key);
    if (id !== undefined) return { id, via: 'direct', key };
    if (fallback && labels && uri) {
      const others = labels.byUri.get(uri);
      if (others) {
        for (const lang of labels.languages) {
          const other = others.get(lang);
          if (lang === language || other === undefined) continue;
          const otherKey = `${lang}:${other}`;
          const otherId = vocab.get(otherKey);
          if (otherId !== undefined) return { id: otherId, via: 'fallback', key: otherKey };
        }
      }
    }
    return { id: null, via: 'none' };
  };
}

/** Keep only vocabulary keys whose title is a label of the data (the compact index). */
export function keysForLabels(labels: Set<string>): (key: string) => boolean {
  return (key) => {
    const colon = key.indexOf(':');
    return labels.has(colon === -1 ? key : key.slice(colon + 1));
  };
}
