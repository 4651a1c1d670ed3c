import { openDataset, readLanguage } from '../src/data/mlama.js';

/** The lines the bundled tokenizers are trained on: every template's text without [X]/[Y], every label and subject. */
export function tokenizerCorpus(data: string): string[] {
  const ds = openDataset(data);
  const lines = new Set<string>();
  for (const lang of ds.languages) {
    for (const set of readLanguage(ds, lang, { templates: 'all' })) {
      lines.add(set.template.text.replace('[X]', '').replace('[Y]', ''));
      for (const c of set.candidates) lines.add(c.label);
      for (const q of set.queries) lines.add(q.subject);
    }
  }
  return [...lines].sort();
}
