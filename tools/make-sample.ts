/**
 * Rebuilds datasets/mlama-sample from the shared mLAMA copy: a few relations in four languages (ja and ar have
 * [Y]-before-[X] templates), at most 60 triples per relation, preferring subjects present in every sampled
 * language so the Wikidata-id fallback has something to find. Deterministic: same input, same files.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDataset, readCandidateFiles, readTemplates, readTriples } from '../src/data/mlama.js';

const [src = '../shared/datasets/mlama', out = 'datasets/mlama-sample'] = process.argv.slice(2);
const LANGS = ['en', 'ja', 'ar', 'zh'];
const RELATIONS = ['P103', 'P19', 'P36', 'P1412', 'P30'];
const PER_RELATION = 60;

const ds = openDataset(src);
rmSync(out, { recursive: true, force: true });
for (const rel of RELATIONS) {
  const byLang = new Map(LANGS.map((l) => [l, [...readTriples(ds, l, rel)]]));
  const subjectsIn = LANGS.map((l) => new Set(byLang.get(l)!.map((t) => t.subUri)));
  const everywhere = (uri?: string) => uri !== undefined && subjectsIn.every((s) => s.has(uri));
  for (const lang of LANGS) {
    const triples = byLang.get(lang)!;
    const chosen = [...triples.filter((t) => everywhere(t.subUri)), ...triples.filter((t) => !everywhere(t.subUri))]
      .slice(0, PER_RELATION)
      .sort((a, b) => a.lineid - b.lineid);
    mkdirSync(join(out, lang), { recursive: true });
    const lines = chosen.map((t) => JSON.stringify({ sub_uri: t.subUri, obj_uri: t.objUri, sub_label: t.subLabel, obj_label: t.objLabel, lineid: t.lineid }));
    writeFileSync(join(out, lang, `${rel}.jsonl`), lines.join('\n') + '\n');
  }
}
for (const lang of LANGS) {
  const templates = readTemplates(ds, lang);
  const lines = RELATIONS.map((r) => JSON.stringify({ relation: r, template: templates.get(r)!.text }));
  writeFileSync(join(out, lang, 'templates.jsonl'), lines.join('\n') + '\n');
  const cands = readCandidateFiles(ds, lang);
  const subset = Object.fromEntries(RELATIONS.map((r) => [r, { objects: cands.get(r)!.labels }]));
  mkdirSync(join(out, 'TREx_multilingual_objects'), { recursive: true });
  writeFileSync(join(out, 'TREx_multilingual_objects', `${lang}.json`), JSON.stringify(subset) + '\n');
}
const readme = readFileSync(join(src, 'README.md'), 'utf8');
const license = readme.slice(readme.indexOf('License:')).trim().replace(/\s+/g, ' ');
writeFileSync(
  join(out, 'README.md'),
  `# mLAMA sample (demo and fixtures)\n\nA small, deterministic subset of mLAMA built by \`make sample\` (tools/make-sample.ts) from the shared\ncopy: languages ${LANGS.join(', ')}; relations ${RELATIONS.join(', ')}; at most ${PER_RELATION} triples per relation\nand language; the relations' full candidate sets.\n\nSource: mLAMA (Kassner, Dufter & Schütze, EACL 2021), triples as released in mParaRel (Fierro & Søgaard,\nFindings of ACL 2022). ${license}\n`,
);
console.log(`wrote ${out}`);
