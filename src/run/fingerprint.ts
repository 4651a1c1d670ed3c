import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CANDIDATE_DIRS, candidateFile, type Dataset } from '../data/mlama.js';
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
    // Paths relative to the folders they are in, so the official layout and the flat one fingerprint alike.
    const files = [
      ...filesUnder(ds.root, lang).map((f) => [f, join(ds.root, f)]),
      ...CANDIDATE_DIRS.map((d) => [join(d, `${lang}.json`), candidateFile(ds, d, lang)]),
    ];
    for (const [f, path] of files) if (existsSync(path)) h.update(`${f}:${hashFile(path)}\n`);
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
