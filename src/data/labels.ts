import { readCandidateFiles, listRelations, readTriples, type Dataset } from './mlama.js';

/**
 * Every label the dataset gives a Wikidata id, in every language: the Wikidata-id fallback of the entity lookup
 * walks from a label in one language to the same entity's labels in the others.
 */
export interface LabelIndex {
  languages: string[];
  byUri: Map<string, Map<string, string>>;
  /** Every label seen (triples and candidate files), for keeping only the entity-vocabulary keys that matter. */
  labels: Set<string>;
  /** Triple ends (subject or object) that name no Wikidata id (GoogleRE): the id fallback cannot reach them. */
  withoutIds?: number;
}

export function readLabelIndex(ds: Dataset, languages: string[] = ds.languages): LabelIndex {
  const byUri = new Map<string, Map<string, string>>();
  const labels = new Set<string>();
  let withoutIds = 0;
  const put = (uri: string | undefined, lang: string, label: string) => {
    labels.add(label);
    if (uri === undefined) {
      withoutIds += 1;
      return;
    }
    let m = byUri.get(uri);
    if (!m) byUri.set(uri, (m = new Map()));
    if (!m.has(lang)) m.set(lang, label);
  };
  for (const lang of languages) {
    for (const rel of listRelations(ds, lang)) {
      for (const t of readTriples(ds, lang, rel)) {
        put(t.subUri, lang, t.subLabel);
        put(t.objUri, lang, t.objLabel);
      }
    }
    for (const { labels: l } of readCandidateFiles(ds, lang).values()) for (const x of l) labels.add(x);
  }
  return { languages: [...languages].sort(), byUri, labels, withoutIds };
}
