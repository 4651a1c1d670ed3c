import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset } from '../data/mlama.js';
import { hashFile } from '../model/checkpoint.js';

/**
 * Per language, a hash over every file of its folder (templates, every relation, paraphrases) and its candidate
 * sets. `languages` are all the languages a run reads: its own, and every language the label index behind the
 * entity fallback reads, so a run over other data in any of them is told apart.
 */
export function datasetFingerprint(ds: Dataset, languages: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const lang of [...new Set(languages)].sort()) {
    const h = createHash('sha256');
    const files = [...filesUnder(ds.root, lang), join('TREx_multilingual_objects', `${lang}.json`), join('GoogleRE_objects', `${lang}.json`)];
    for (const f of files) if (existsSync(join(ds.root, f))) h.update(`${f}:${hashFile(join(ds.root, f))}\n`);
    out[lang] = h.digest('hex').slice(0, 16);
  }
  return out;
}

function filesUnder(root: string, rel: string): string[] {
  const dir = join(root, rel);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((f) => (statSync(join(dir, f)).isDirectory() ? filesUnder(root, join(rel, f)) : [join(rel, f)]));
}
