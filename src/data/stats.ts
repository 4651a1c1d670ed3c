import type { WarningSink } from '../errors.js';
import { readLanguage, readTemplates, type Dataset } from './mlama.js';

export interface LanguageStats {
  language: string;
  relations: number;
  triples: number;
  queries: number;
  candidates: number;
  gold_added: number;
  y_before_x_templates: number;
  relations_without_template: number;
}

export function languageStats(ds: Dataset, lang: string, onWarning?: WarningSink): LanguageStats {
  const s: LanguageStats = {
    language: lang,
    relations: 0,
    triples: 0,
    queries: 0,
    candidates: 0,
    gold_added: 0,
    y_before_x_templates: 0,
    relations_without_template: 0,
  };
  for (const t of readTemplates(ds, lang).values()) if (t.yBeforeX) s.y_before_x_templates += 1;
  const warn: WarningSink = (m) => {
    s.relations_without_template += 1;
    onWarning?.(m);
  };
  for (const set of readLanguage(ds, lang, { onWarning: warn })) {
    s.relations += 1;
    s.triples += set.triples;
    s.queries += set.queries.length;
    s.candidates += set.candidates.length;
    s.gold_added += set.goldAdded;
  }
  return s;
}
