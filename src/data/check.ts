import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonFile, readLines } from './jsonl.js';
import { CANDIDATE_DIRS, candidateFile, listRelations, readCandidateFiles, readLanguage, readTemplates, type Dataset } from './mlama.js';

/** What a run over one language would see: the numbers to check before an hours-long run. */
export interface LanguageCheck {
  language: string;
  /** Relations that can be asked, by the candidate folder their set comes from. */
  trex: string[];
  googlere: string[];
  triples: number;
  queries: number;
  /** Candidate sets the language's candidate files hold (some may name relations it has no triples for). */
  candidate_sets: number;
  /** Distinct gold objects missing from their relation's candidate set: added so every answer can be ranked. */
  golds_missing: number;
  y_before_x_templates: string[];
  /** Triples without a subject or object Wikidata id: analyses that join on ids leave them out. */
  triples_without_ids: number;
  /** Relation files with no template (skipped), and templates with no relation file (nothing to ask). */
  relations_without_template: string[];
  templates_without_triples: string[];
  /** Candidate sets naming a relation the language has no triples for. */
  candidate_sets_unused: string[];
}

/** Lines and fields present in the files that the harness does not read. */
export interface Ignored {
  /** "<kind> field <name>" -> how many lines (or candidate sets) carry it; kinds: templates, triples, candidates. */
  fields: Record<string, number>;
  blank_lines: number;
}

const KNOWN = {
  templates: new Set(['relation', 'template']),
  triples: new Set(['sub_uri', 'obj_uri', 'sub_label', 'obj_label', 'lineid']),
  candidates: new Set(['objects']),
};

/** Reads every file of `lang` the way a run does (so a file a run would refuse fails here, with the same line). */
export function checkLanguage(ds: Dataset, lang: string): LanguageCheck {
  const c: LanguageCheck = {
    language: lang,
    trex: [],
    googlere: [],
    triples: 0,
    queries: 0,
    candidate_sets: readCandidateFiles(ds, lang).size,
    golds_missing: 0,
    y_before_x_templates: [],
    triples_without_ids: 0,
    relations_without_template: [],
    templates_without_triples: [],
    candidate_sets_unused: [],
  };
  const templates = readTemplates(ds, lang);
  const files = new Set(listRelations(ds, lang));
  for (const [rel, t] of templates) {
    if (!files.has(rel)) c.templates_without_triples.push(rel);
    else if (t.yBeforeX) c.y_before_x_templates.push(rel);
  }
  for (const rel of files) if (!templates.has(rel)) c.relations_without_template.push(rel);
  for (const rel of readCandidateFiles(ds, lang).keys()) if (!files.has(rel)) c.candidate_sets_unused.push(rel);
  for (const set of readLanguage(ds, lang)) {
    (set.source === 'GoogleRE' ? c.googlere : c.trex).push(set.relation);
    c.triples += set.triples;
    c.queries += set.queries.length;
    c.golds_missing += set.goldAdded;
    c.triples_without_ids += set.withoutIds ?? 0;
  }
  return c;
}

/** Fields and blank lines the reader passes over, in the files of `languages`. */
export function ignoredIn(ds: Dataset, languages: string[]): Ignored {
  const out: Ignored = { fields: {}, blank_lines: 0 };
  const note = (kind: keyof typeof KNOWN, keys: string[]) => {
    for (const k of keys) if (!KNOWN[kind].has(k)) out.fields[`${kind} field "${k}"`] = (out.fields[`${kind} field "${k}"`] ?? 0) + 1;
  };
  const scan = (kind: 'templates' | 'triples', file: string) => {
    for (const { text } of readLines(file)) {
      if (text.trim() === '') out.blank_lines += 1;
      else note(kind, Object.keys(JSON.parse(text) as object));
    }
  };
  for (const lang of languages) {
    scan('templates', join(ds.root, lang, 'templates.jsonl'));
    for (const rel of listRelations(ds, lang)) scan('triples', join(ds.root, lang, `${rel}.jsonl`));
    for (const dir of CANDIDATE_DIRS) {
      const file = candidateFile(ds, dir, lang);
      if (!existsSync(file)) continue;
      for (const entry of Object.values(readJsonFile(file) as Record<string, object>)) note('candidates', Object.keys(entry));
    }
  }
  return out;
}
