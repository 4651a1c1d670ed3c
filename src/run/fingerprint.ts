import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { listRelations, type Dataset } from '../data/mlama.js';
import { hashFile } from '../model/checkpoint.js';

/** Per language, a hash over every file a run reads: templates, relation files, candidate sets, paraphrases. */
export function datasetFingerprint(ds: Dataset, languages: string[], relations?: string[], paraphrases = false): Record<string, string> {
  const out: Record<string, string> = {};
  for (const lang of languages) {
    const h = createHash('sha256');
    const files = [join(lang, 'templates.jsonl')];
    for (const rel of listRelations(ds, lang)) {
      if (relations?.length && !relations.includes(rel)) continue;
      files.push(join(lang, `${rel}.jsonl`));
      if (paraphrases) files.push(join(lang, 'paraphrases', `${rel}.jsonl`));
    }
    files.push(join('TREx_multilingual_objects', `${lang}.json`), join('GoogleRE_objects', `${lang}.json`));
    for (const f of files) if (existsSync(join(ds.root, f))) h.update(`${f}:${hashFile(join(ds.root, f))}\n`);
    out[lang] = h.digest('hex').slice(0, 16);
  }
  return out;
}
