import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeOfficialLayout } from '../../test/support/officialLayout.js';

/**
 * The official layout of a flat dataset, changed only where a public script would stop before the first query:
 * the authors' reader asserts every triple's subject and object are in the relation's candidate file, and mLAMA's
 * rank lookup fails on an object missing there (the release's files miss some, the sample's trimmed files more,
 * and the sample's carry no `subjects`); the authors' template regex also needs [X] before [Y]. Missing subjects
 * and objects are appended to the candidate files, in triple order; with `yFirst: 'drop'` relations whose template
 * puts [Y] first are left out of templates.jsonl. Both sides of a check read the result.
 */
export interface RunnableLayout {
  /** The data/ root. */
  data: string;
  languages: string[];
  leftOut: { language: string; relation: string; triples: number }[];
  /** Objects appended to candidate files, per `lang/relation`. */
  objectsAdded: Record<string, number>;
  subjectsAdded: number;
  /** Relations in the order the script reads them, per language. */
  relationOrder: Record<string, string[]>;
}

const lines = <T>(file: string): T[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);

export function runnableLayout(dir: string, from: string, languages: readonly string[], o: { yFirst: 'drop' | 'keep' }): RunnableLayout {
  rmSync(join(dir, 'data'), { recursive: true, force: true });
  const layout = makeOfficialLayout(dir, from);
  const out: RunnableLayout = { data: layout.data, languages: [], leftOut: [], objectsAdded: {}, subjectsAdded: 0, relationOrder: {} };
  for (const lang of languages.filter((l) => layout.languages.includes(l))) {
    out.languages.push(lang);
    const templatesFile = join(layout.release, lang, 'templates.jsonl');
    const templates = lines<{ relation: string; template: string }>(templatesFile);
    const triples = (rel: string) => lines<{ sub_label: string; obj_label: string }>(join(layout.release, lang, `${rel}.jsonl`));
    const runs = templates.filter((t) => o.yFirst === 'keep' || t.template.indexOf('[X]') < t.template.indexOf('[Y]'));
    for (const t of templates.filter((x) => !runs.includes(x))) out.leftOut.push({ language: lang, relation: t.relation, triples: triples(t.relation).length });
    writeFileSync(templatesFile, runs.map((t) => JSON.stringify(t)).join('\n') + '\n');
    out.relationOrder[lang] = runs.map((t) => t.relation);
    for (const folder of ['TREx_multilingual_objects', 'GoogleRE_objects']) {
      const file = join(layout.data, folder, `${lang}.json`);
      const candidates = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { objects: string[]; subjects?: string[] }>;
      for (const [rel, c] of Object.entries(candidates)) {
        if (!existsSync(join(layout.release, lang, `${rel}.jsonl`))) continue;
        c.subjects ??= [];
        for (const t of triples(rel)) {
          if (!c.subjects.includes(t.sub_label)) {
            c.subjects.push(t.sub_label);
            out.subjectsAdded += 1;
          }
          if (!c.objects.includes(t.obj_label)) {
            c.objects.push(t.obj_label);
            out.objectsAdded[`${lang}/${rel}`] = (out.objectsAdded[`${lang}/${rel}`] ?? 0) + 1;
          }
        }
      }
      writeFileSync(file, JSON.stringify(candidates));
    }
  }
  return out;
}
