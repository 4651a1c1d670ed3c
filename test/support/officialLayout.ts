/**
 * The official mLAMA 1.1 layout, as its instructions unpack it, built from a flat dataset (the bundled sample by
 * default): the mlama repository's data/ folder holds TREx_multilingual_objects/<lang>.json and
 * GoogleRE_objects/<lang>.json, and mlama1.1.zip unzipped in it gives mlama1.1/<lang>/{templates.jsonl,<rel>.jsonl}.
 *
 * The flat sample has no GoogleRE part (the shared copy has none), so one is written here the way the release
 * shapes it: lines with labels and no Wikidata ids, extra fields (uuid, from_english), candidate files with
 * `subjects` beside `objects` and repeated objects. place_of_birth reuses the language's real P19 facts and
 * template. date_of_birth exists to exercise mLAMA's date rule and the years-as-strings candidate sets: its years
 * are placeholders derived from the lineid, NOT facts, and its template is the English one in every language.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SAMPLE = join(import.meta.dirname, '../../datasets/mlama-sample');
const TREX = 'TREx_multilingual_objects';
const GOOGLE = 'GoogleRE_objects';
/** GoogleRE triples per relation and language: enough to rank, few enough to score in a test. */
const PER_RELATION = 12;

export interface OfficialLayout {
  /** The data/ root: what a user passes after following mLAMA's instructions. */
  data: string;
  /** data/mlama1.1, the other entry point. */
  release: string;
  languages: string[];
}

interface Line {
  sub_label: string;
  obj_label: string;
  lineid: number;
}

interface TemplateLine {
  relation: string;
  template: string;
}

const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const readLines = <T>(file: string): T[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);

/** Lays the official layout out in `dir` (created; its data/ must not exist yet) and returns its entry points. */
export function makeOfficialLayout(dir: string, from: string = SAMPLE): OfficialLayout {
  const data = join(dir, 'data');
  if (existsSync(data)) throw new Error(`${data}: already exists; give an empty or new folder`);
  const release = join(data, 'mlama1.1');
  const languages = readdirSync(from)
    .filter((d) => existsSync(join(from, d, 'templates.jsonl')))
    .sort();
  mkdirSync(join(data, TREX), { recursive: true });
  mkdirSync(join(data, GOOGLE), { recursive: true });
  for (const lang of languages) {
    cpSync(join(from, lang), join(release, lang), { recursive: true });
    cpSync(join(from, TREX, `${lang}.json`), join(data, TREX, `${lang}.json`));
    writeGoogleRE(from, data, release, lang);
  }
  return { data, release, languages };
}

function writeGoogleRE(from: string, data: string, release: string, lang: string): void {
  const born = readLines<Line>(join(from, lang, 'P19.jsonl')).slice(0, PER_RELATION);
  const p19 = readLines<TemplateLine>(join(from, lang, 'templates.jsonl')).find((t) => t.relation === 'P19');
  if (!p19) throw new Error(`${join(from, lang, 'templates.jsonl')}: no P19 template to lend place_of_birth`);
  const uuid = (rel: string, i: number) => `${lang}-${rel}-${i}`;
  const lines = {
    place_of_birth: born.map((t, i) => ({ uuid: uuid('place_of_birth', i), sub_label: t.sub_label, obj_label: t.obj_label, lineid: i, from_english: false })),
    // Placeholder years (see the module comment); two subjects share one, so the candidate file repeats it.
    date_of_birth: born.map((t, i) => ({ uuid: uuid('date_of_birth', i), sub_label: t.sub_label, obj_label: String(1900 + ((t.lineid * 7) % 90)), lineid: i })),
  };
  lines.date_of_birth[1].obj_label = lines.date_of_birth[0].obj_label;
  const candidates: Record<string, { objects: string[]; subjects: string[] }> = {};
  for (const [rel, rows] of Object.entries(lines)) {
    writeFileSync(join(release, lang, `${rel}.jsonl`), jsonl(rows));
    candidates[rel] = { objects: rows.map((r) => r.obj_label), subjects: rows.map((r) => r.sub_label) };
  }
  writeFileSync(join(data, GOOGLE, `${lang}.json`), JSON.stringify(candidates));
  const extra = [
    { relation: 'place_of_birth', template: p19.template, label: 'place of birth' },
    { relation: 'date_of_birth', template: '[X] (born [Y]).', label: 'date of birth' },
  ];
  writeFileSync(join(release, lang, 'templates.jsonl'), readFileSync(join(from, lang, 'templates.jsonl'), 'utf8').trimEnd() + '\n' + jsonl(extra));
}
