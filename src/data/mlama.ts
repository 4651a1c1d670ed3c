import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fail, type WarningSink } from '../errors.js';
import { readJsonFile, readJsonl, stringField } from './jsonl.js';
import type { Candidate, Query, RelationSet, RelationSource, Template, Triple } from './types.js';

export const CANDIDATE_DIRS = ['TREx_multilingual_objects', 'GoogleRE_objects'];
const SOURCES: Record<string, RelationSource> = { TREx_multilingual_objects: 'TREx', GoogleRE_objects: 'GoogleRE' };
/** The folder mlama1.1.zip unpacks to. */
export const RELEASE_DIR = 'mlama1.1';

export interface Dataset {
  /** The folder holding the language folders. */
  root: string;
  /** The folder holding TREx_multilingual_objects/ and GoogleRE_objects/ (root, or its parent in the official layout). */
  candidateRoot: string;
  languages: string[];
  /** Parsed files of the languages a run works on, by path (see holding): a run reads each of them once. */
  held?: { languages: Set<string>; files: Map<string, unknown> };
}

/**
 * The dataset with the files of `languages` kept once parsed: a run plans, costs a shard split and scores from
 * memory instead of parsing every relation file three or four times. Other languages (those only the label index
 * reads) stream as before, so memory holds what the run itself asks.
 */
export function holding(ds: Dataset, languages: string[]): Dataset {
  return { ...ds, held: { languages: new Set(languages), files: new Map() } };
}

function held<T>(ds: Dataset, lang: string, file: string, read: () => T): T {
  if (!ds.held?.languages.has(lang)) return read();
  let v = ds.held.files.get(file) as T | undefined;
  if (v === undefined) ds.held.files.set(file, (v = read()));
  return v;
}

/**
 * A dataset folder as given to --data: a folder of language folders (the shared copy's layout, candidate folders
 * beside them or one level up), or the official layout's `data/` root with the release unzipped in `mlama1.1/`.
 */
export function openDataset(given: string): Dataset {
  if (!isDir(given)) fail(existsSync(given) ? `${given}: not a directory (--data takes the dataset folder)` : `${given}: dataset directory not found`);
  const here = languageDirs(given);
  if (here.length) return { root: given, candidateRoot: candidateRootFor(given), languages: here };
  const inner = join(given, RELEASE_DIR);
  const nested = isDir(inner) ? languageDirs(inner) : [];
  if (nested.length) return { root: inner, candidateRoot: given, languages: nested };
  const below = join(given, 'data', RELEASE_DIR);
  if (isDir(below))
    fail(`${given}: no language directories with templates.jsonl here; the mlama repository's data is in ${join(given, 'data')}: pass that folder`);
  fail(
    `${given}: no language directories with templates.jsonl, here or in ${inner} (expected <lang>/templates.jsonl and <lang>/<relation>.jsonl: mLAMA 1.1's layout, or the mlama repository's data/ folder with mlama1.1.zip unzipped in it)`,
  );
}

const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();

function languageDirs(dir: string): string[] {
  return readdirSync(dir)
    .filter((d) => existsSync(join(dir, d, 'templates.jsonl')))
    .sort();
}

/** Where the candidate folders are: beside the language folders, else one level up (data/ above data/mlama1.1/). */
function candidateRootFor(root: string): string {
  const up = join(root, '..');
  const has = (dir: string) => CANDIDATE_DIRS.some((d) => isDir(join(dir, d)));
  return !has(root) && has(up) ? up : root;
}

/** Said when no candidate folder was found at all: where they were looked for. */
function noCandidateFolders(ds: Dataset): string {
  if (CANDIDATE_DIRS.some((d) => isDir(join(ds.candidateRoot, d)))) return '';
  return ` (no ${CANDIDATE_DIRS.join('/ or ')}/ folder in ${ds.candidateRoot}${ds.candidateRoot === ds.root ? ` or ${join(ds.root, '..')}` : ''})`;
}

/** A candidate file of a language, in the dataset's candidate folder. */
export function candidateFile(ds: Dataset, dir: string, lang: string): string {
  return join(ds.candidateRoot, dir, `${lang}.json`);
}

export function resolveLanguages(ds: Dataset, requested?: string[]): string[] {
  if (!requested) return ds.languages;
  distinct('--languages', requested);
  for (const l of requested) {
    if (ds.languages.includes(l)) continue;
    if (existsSync(join(ds.root, l))) fail(`${join(ds.root, l, 'templates.jsonl')}: missing (every language directory needs its templates)`);
    fail(`unknown language "${l}" in ${ds.root}; available: ${ds.languages.join(', ')}`);
  }
  return requested;
}

/** A selection list must select something and name each item once (duplicates would score answers twice). */
export function distinct(flag: string, values: string[]): string[] {
  if (values.length === 0) fail(`${flag} is empty: it selects nothing (leave the option out to select everything)`);
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) fail(`${flag} lists "${v}" twice`);
    seen.add(v);
  }
  return values;
}

/**
 * The requested relations, each of which must exist in at least one selected language (mLAMA's languages do not
 * all have every relation); one that matches nothing is an error naming it, before anything is scored.
 */
export function resolveRelations(ds: Dataset, languages: string[], requested?: string[], flag = '--relations'): string[] | undefined {
  if (!requested) return undefined;
  distinct(flag, requested);
  const present = new Set(languages.flatMap((l) => listRelations(ds, l)));
  for (const r of requested) {
    if (present.has(r)) continue;
    const near = [...present].find((p) => p.toLowerCase() === r.toLowerCase());
    fail(
      `${flag}: "${r}" matches no relation in ${languages.join(', ')}${near ? ` (did you mean "${near}"? relation names are case-sensitive)` : `; available: ${[...present].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).join(', ')}`}`,
    );
  }
  return requested;
}

export function checkTemplate(text: string, where: string): boolean {
  const xs = text.split('[X]').length - 1;
  const ys = text.split('[Y]').length - 1;
  if (xs !== 1 || ys !== 1) {
    fail(`${where}: template must contain exactly one [X] and one [Y] (found ${xs} and ${ys}): ${JSON.stringify(text)}`);
  }
  return text.indexOf('[Y]') < text.indexOf('[X]');
}

function templatesFrom(file: string): Template[] {
  const out: Template[] = [];
  for (const { line, value } of readJsonl(file)) {
    const relation = stringField(file, line, value, 'relation');
    const text = stringField(file, line, value, 'template');
    const source = `${file}:${line}`;
    out.push({ relation, text, source, yBeforeX: checkTemplate(text, source) });
  }
  return out;
}

/** The main template of each relation (mLAMA keeps one per relation in templates.jsonl). */
export function readTemplates(ds: Dataset, lang: string): Map<string, Template> {
  const file = join(ds.root, lang, 'templates.jsonl');
  return held(ds, lang, file, () => templateMap(file, lang));
}

function templateMap(file: string, lang: string): Map<string, Template> {
  const map = new Map<string, Template>();
  for (const t of templatesFrom(file)) {
    if (map.has(t.relation)) fail(`${t.source}: second template for relation ${t.relation}`);
    map.set(t.relation, t);
  }
  if (map.size === 0) fail(`${file}: no templates (the file is empty), so no relation of ${lang} can be asked`);
  return map;
}

/** Paraphrase templates of a relation, when the release has them. */
export function readParaphrases(ds: Dataset, lang: string, relation: string): Template[] {
  const file = join(ds.root, lang, 'paraphrases', `${relation}.jsonl`);
  return held(ds, lang, file, () => (existsSync(file) ? templatesFrom(file) : []));
}

export function listRelations(ds: Dataset, lang: string): string[] {
  return readdirSync(join(ds.root, lang))
    .filter((f) => f.endsWith('.jsonl') && f !== 'templates.jsonl')
    .map((f) => f.slice(0, -'.jsonl'.length))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/**
 * Labels are compared as strings everywhere downstream (candidate sets, golds, entity keys): NFC once here, so the
 * NFD and NFC spellings of one label are one candidate instead of two that tie and let candidate order decide.
 */
const label = (s: string): string => s.normalize('NFC');

export function* readTriples(ds: Dataset, lang: string, relation: string): Generator<Triple> {
  const file = join(ds.root, lang, `${relation}.jsonl`);
  if (ds.held?.languages.has(lang)) yield* held(ds, lang, file, () => [...parseTriples(file)]);
  else yield* parseTriples(file);
}

function* parseTriples(file: string): Generator<Triple> {
  for (const { line, value } of readJsonl(file)) {
    const lineid = value.lineid;
    if (lineid === undefined) fail(`${file}:${line}: missing field "lineid"`);
    if (typeof lineid !== 'number' || !Number.isInteger(lineid)) fail(`${file}:${line}: field "lineid" must be an integer`);
    yield {
      subUri: optionalId(file, line, value, 'sub_uri'),
      objUri: optionalId(file, line, value, 'obj_uri'),
      subLabel: label(stringField(file, line, value, 'sub_label')),
      objLabel: label(stringField(file, line, value, 'obj_label')),
      lineid,
    };
  }
}

/** GoogleRE lines may carry labels only: a missing, null or empty id is no id, anything else must be a string. */
function optionalId(file: string, line: number, obj: Record<string, unknown>, field: string): string | undefined {
  const v = obj[field];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') fail(`${file}:${line}: field "${field}" must be a string (a Wikidata id) when present`);
  return v;
}

/** Candidate object labels per relation, from the candidate files present for the language. */
export function readCandidateFiles(ds: Dataset, lang: string): Map<string, CandidateFileSet> {
  return held(ds, lang, `candidates:${lang}`, () => candidateFiles(ds, lang));
}

export interface CandidateFileSet {
  labels: string[];
  source: string;
  kind: RelationSource;
}

function candidateFiles(ds: Dataset, lang: string): Map<string, CandidateFileSet> {
  const out = new Map<string, CandidateFileSet>();
  for (const dir of CANDIDATE_DIRS) {
    const file = candidateFile(ds, dir, lang);
    if (!existsSync(file)) continue;
    const json = readJsonFile(file);
    if (json === null || typeof json !== 'object' || Array.isArray(json)) fail(`${file}: expected an object keyed by relation`);
    for (const [rel, entry] of Object.entries(json as Record<string, unknown>)) {
      const objects = (entry as { objects?: unknown } | null)?.objects;
      if (!Array.isArray(objects)) fail(`${file}: field "${rel}.objects" missing or not a list`);
      if (objects.length === 0) fail(`${file}: field "${rel}.objects" is an empty candidate set`);
      objects.forEach((o, i) => {
        if (typeof o !== 'string' || o.trim() === '') fail(`${file}: field "${rel}.objects[${i}]" must be a non-empty string`);
      });
      // T-REx and GoogleRE name their relations apart (P19 vs place_of_birth); one relation in both would have
      // two candidate sets, and taking either silently changes what is ranked.
      const prev = out.get(rel);
      if (prev) fail(`${file}: relation "${rel}" also has a candidate set in ${prev.source}; a relation must have one candidate set (remove it from one file)`);
      out.set(rel, { labels: (objects as string[]).map(label), source: file, kind: SOURCES[dir] });
    }
  }
  return out;
}

export interface ReadOptions {
  relations?: string[];
  /** 'main': templates.jsonl; 'paraphrases': every paraphrase as well. */
  templates?: 'main' | 'all';
  onWarning?: WarningSink;
}

/**
 * The relations of one language, one at a time: only one relation's triples are held in memory (unless the
 * dataset holds the language for a run: see holding).
 * Candidate policy: the candidate-file objects plus every gold object of the relation, so every answer can be
 * ranked; the number added is kept on the set.
 */
export function* readLanguage(ds: Dataset, lang: string, opts: ReadOptions = {}): Generator<RelationSet> {
  const templates = readTemplates(ds, lang);
  const candidateFiles = readCandidateFiles(ds, lang);
  const warn = opts.onWarning ?? (() => {});
  let relations = listRelations(ds, lang);
  if (opts.relations?.length) relations = relations.filter((r) => opts.relations!.includes(r));
  for (const relation of relations) {
    const template = templates.get(relation);
    if (!template) {
      warn(`${join(ds.root, lang, relation + '.jsonl')}: no template for ${relation} in ${lang}/templates.jsonl; relation skipped`);
      continue;
    }
    const cands = candidateFiles.get(relation);
    if (!cands) fail(`${lang}/${relation}: no candidate set in ${CANDIDATE_DIRS.map((d) => candidateFile(ds, d, lang)).join(' or ')}${noCandidateFolders(ds)}`);
    const triples = [...readTriples(ds, lang, relation)];
    const { candidates, goldAdded } = candidateSet(cands.labels, triples);
    const withoutIds = triples.filter((t) => t.subUri === undefined || t.objUri === undefined).length;
    const all = opts.templates === 'all' ? [template, ...readParaphrases(ds, lang, relation)] : [template];
    const seen = new Set<string>();
    for (const t of all) {
      if (seen.has(t.text)) continue;
      seen.add(t.text);
      const queries = groupQueries(lang, relation, t.text, triples);
      yield { language: lang, relation, template: t, candidates, goldAdded, triples: triples.length, queries, source: cands.kind, withoutIds };
    }
  }
}

export function candidateSet(fileLabels: string[], triples: Triple[]): { candidates: Candidate[]; goldAdded: number } {
  // The first id a label has: a GoogleRE line without one does not hide the id another line gives it.
  const uriOf = new Map<string, string | undefined>();
  for (const t of triples) if (uriOf.get(t.objLabel) === undefined) uriOf.set(t.objLabel, t.objUri);
  const copies = new Map<string, number>();
  for (const label of fileLabels) copies.set(label, (copies.get(label) ?? 0) + 1);
  const seen = new Set<string>();
  const candidates: Candidate[] = [];
  for (const label of fileLabels) {
    if (seen.has(label)) continue;
    seen.add(label);
    const n = copies.get(label)!;
    candidates.push(n > 1 ? { label, uri: uriOf.get(label), copies: n } : { label, uri: uriOf.get(label) });
  }
  let goldAdded = 0;
  for (const [label, uri] of uriOf) {
    if (seen.has(label)) continue;
    seen.add(label);
    candidates.push({ label, uri });
    goldAdded += 1;
  }
  return { candidates, goldAdded };
}

/** Unique (relation, subject label) queries; N-M relations give one query with several golds. */
export function groupQueries(language: string, relation: string, template: string, triples: Triple[]): Query[] {
  const bySubject = new Map<string, Query>();
  for (const t of triples) {
    let q = bySubject.get(t.subLabel);
    if (!q) {
      q = {
        key: `${language}|${relation}|${template}|${t.subLabel}`,
        language,
        relation,
        template,
        subject: t.subLabel,
        subjectUri: t.subUri,
        golds: [],
        lineids: [],
      };
      bySubject.set(t.subLabel, q);
    }
    q.subjectUri ??= t.subUri;
    const gold = q.golds.find((g) => g.label === t.objLabel);
    if (!gold) q.golds.push({ label: t.objLabel, uri: t.objUri });
    else gold.uri ??= t.objUri;
    q.lineids.push(t.lineid);
  }
  return [...bySubject.values()];
}
