import type { TrainingFact } from '../data/trainingFacts.js';
import type { ResultRow } from '../store/db.js';
import { crossLingual, type LanguagePair } from './crosslingual.js';
import { mean } from '../stats.js';
import { correctAt } from './metrics.js';

/**
 * The known-answer check: stored answers of a checkpoint trained on known facts, split by what the model saw.
 * A query is classified by its subjects (every triple behind it, found by lineid), not by its gold objects, so
 * that a harness fault that mislabels golds shows up as a collapse of the trained facts' P@1 instead of moving
 * those queries to another class.
 *   trained   every subject's facts of this relation were trained in the query's language
 *   transfer  trained only in other languages (the cross-lingual probe)
 *   held-out  never trained in any language
 *   mixed     anything else (a label shared by subjects of different classes); not counted
 */
export type KnownPart = 'trained' | 'transfer' | 'held-out' | 'mixed';

/**
 * (language, relation, lineid) -> sub_uri, from the dataset the run evaluated: null for a line the data holds
 * without a subject id (GoogleRE lines carry labels only), undefined for a lineid the data does not hold.
 */
export type SubjectOf = (language: string, relation: string, lineid: number) => string | null | undefined;

export interface PartCell {
  part: KnownPart;
  language: string;
  style: string;
  queries: number;
  p_at_1: number;
}

export interface KnownAnswerReport {
  /** Distinct (relation, sub_uri, obj_uri) trained, and (language, fact) pairs. */
  facts: number;
  pairs: number;
  /** Per part, language ('all' for the total) and style. */
  cells: PartCell[];
  /** Best single answer per (language, relation) on the held-out queries, per language and 'all'. */
  baseline: { language: string; queries: number; p_at_1: number }[];
  /** Answers whose lineids the dataset does not hold (other data): not counted. */
  unmatched: number;
  /** Answers whose lines name no subject id (GoogleRE), which training facts are keyed by: not counted. */
  without_ids: number;
  /** Answers whose subject label covers facts of different classes: not counted. */
  mixed: number;
  /** Cross-lingual agreement within each class: the planted structure (trained facts agree, held-out do not). */
  cross_lingual: PartAgreement[];
}

/**
 * crossLingual's top-1 agreement and RankC on the facts of one class, per style. A fact counts for a language
 * pair only when both languages' queries are of the class; for `transfer`, a = a language the fact was trained
 * in, b = the language it was only transferred to.
 */
export interface PartAgreement {
  part: Exclude<KnownPart, 'mixed'>;
  style: string;
  /** Language pairs sharing at least one fact of the class. */
  pairs: LanguagePair[];
  /** Facts compared, summed over the pairs. */
  facts: number;
  /** Means over the pairs (null when no pair shares a fact). */
  mean_top1: number | null;
  mean_rankc: number | null;
}

export interface KnownAnswerSummary {
  trained_p1_word: number;
  trained_p1_entity: number;
  heldout_p1_word: number;
  heldout_p1_entity: number;
  baseline_p1: number;
}

const subjectKey = (relation: string, sub: string) => `${relation}\u0000${sub}`;

/** A query's class; 'no-ids' where a line behind it names no subject id, null where the data lacks one of its lines. */
export function classifyQuery(row: ResultRow, subjectOf: SubjectOf, trainedIn: Map<string, Set<string>>): KnownPart | 'no-ids' | null {
  const subjects = new Set<string>();
  let noIds = false;
  for (const id of row.lineids) {
    const s = subjectOf(row.language, row.relation, id);
    if (s === undefined) return null;
    if (s === null) noIds = true;
    else subjects.add(s);
  }
  if (noIds) return 'no-ids';
  if (subjects.size === 0) return null;
  const langs = [...subjects].map((s) => trainedIn.get(subjectKey(row.relation, s)) ?? new Set<string>());
  if (langs.every((l) => l.has(row.language))) return 'trained';
  if (langs.every((l) => l.size === 0)) return 'held-out';
  if (langs.every((l) => l.size > 0 && !l.has(row.language))) return 'transfer';
  return 'mixed';
}

export function knownAnswerReport(rows: ResultRow[], facts: TrainingFact[], subjectOf: SubjectOf): KnownAnswerReport {
  const trainedIn = new Map<string, Set<string>>();
  for (const f of facts) {
    const k = subjectKey(f.relation, f.subUri);
    const s = trainedIn.get(k) ?? new Set<string>();
    s.add(f.language);
    trainedIn.set(k, s);
  }
  const tally = new Map<string, { cell: Omit<PartCell, 'p_at_1'>; correct: number }>();
  const count = (part: KnownPart, language: string, style: string, ok: boolean) => {
    const k = `${part}\u0000${language}\u0000${style}`;
    const t = tally.get(k) ?? { cell: { part, language, style, queries: 0 }, correct: 0 };
    t.cell.queries += 1;
    if (ok) t.correct += 1;
    tally.set(k, t);
  };
  let unmatched = 0;
  let withoutIds = 0;
  let mixed = 0;
  // Held-out queries once each (whatever the styles), with their golds, for the baseline.
  const heldOut = new Map<string, ResultRow>();
  const byPart: Record<KnownPart, ResultRow[]> = { trained: [], transfer: [], 'held-out': [], mixed: [] };
  for (const r of rows) {
    const part = classifyQuery(r, subjectOf, trainedIn);
    if (part === null) unmatched += 1;
    if (part === 'no-ids') withoutIds += 1;
    if (part === 'mixed') mixed += 1;
    if (part === null || part === 'no-ids' || part === 'mixed') continue;
    byPart[part].push(r);
    const ok = correctAt(r, 1);
    count(part, r.language, r.style, ok);
    count(part, 'all', r.style, ok);
    if (part === 'held-out') heldOut.set(JSON.stringify([r.language, r.relation, r.template, r.subject]), r);
  }
  const cells = [...tally.values()]
    .map((t) => ({ ...t.cell, p_at_1: t.correct / t.cell.queries }))
    .sort((a, b) => a.part.localeCompare(b.part) || a.language.localeCompare(b.language) || a.style.localeCompare(b.style));
  return {
    facts: new Set(facts.map((f) => `${f.relation}\u0000${f.subUri}\u0000${f.objUri}`)).size,
    pairs: facts.length,
    cells,
    baseline: singleAnswerBaseline([...heldOut.values()]),
    unmatched,
    without_ids: withoutIds,
    mixed,
    cross_lingual: partAgreement(byPart.trained, byPart.transfer, byPart['held-out']),
  };
}

/** Within-class agreement, by crossLingual on each class's rows; transfer pairs one trained and one transfer language. */
export function partAgreement(trained: ResultRow[], transfer: ResultRow[], heldOut: ResultRow[]): PartAgreement[] {
  const out: PartAgreement[] = [];
  const add = (part: PartAgreement['part'], style: string, all: LanguagePair[]) => {
    const pairs = all.filter((p) => p.facts > 0);
    out.push({
      part,
      style,
      pairs,
      facts: pairs.reduce((n, p) => n + p.facts, 0),
      mean_top1: mean(pairs.map((p) => p.top1)),
      mean_rankc: mean(pairs.map((p) => p.rankc)),
    });
  };
  for (const [part, rows] of [
    ['trained', trained],
    ['held-out', heldOut],
  ] as const)
    for (const s of crossLingual(rows).styles) add(part, s.style, s.pairs);
  // One crossLingual call per (trained language, transfer language): the rows of just that pair's shared facts,
  // so that neither two transfer languages nor two trained ones are compared.
  const fact = (r: ResultRow) => `${r.style}\u0000${r.relation}\u0000${r.sub_uri}`;
  const langs = (rs: ResultRow[]) => [...new Set(rs.map((r) => r.language))].sort();
  const byStyle = new Map<string, LanguagePair[]>();
  for (const src of langs(trained))
    for (const dst of langs(transfer)) {
      if (src === dst) continue;
      const target = transfer.filter((r) => r.language === dst);
      const inTarget = new Set(target.map(fact));
      const source = trained.filter((r) => r.language === src && inTarget.has(fact(r)));
      for (const s of crossLingual([...source, ...target]).styles)
        for (const p of s.pairs) {
          const pair = p.a === src ? p : { ...p, a: p.b, b: p.a };
          byStyle.set(s.style, [...(byStyle.get(s.style) ?? []), pair]);
        }
    }
  for (const [style, pairs] of byStyle) add('transfer', style, pairs);
  const order = ['trained', 'transfer', 'held-out'];
  return out.sort((x, y) => order.indexOf(x.part) - order.indexOf(y.part) || x.style.localeCompare(y.style));
}

/**
 * What a model that knows no fact but each relation's most useful answer would score: per (language, relation),
 * the one label that is a gold object of the most queries. An upper bound on knowing nothing per query.
 */
export function singleAnswerBaseline(queries: ResultRow[]): { language: string; queries: number; p_at_1: number }[] {
  const byRel = new Map<string, ResultRow[]>();
  for (const q of queries) {
    const k = `${q.language}\u0000${q.relation}`;
    byRel.set(k, [...(byRel.get(k) ?? []), q]);
  }
  const perLang = new Map<string, { queries: number; hits: number }>();
  for (const qs of byRel.values()) {
    const counts = new Map<string, number>();
    for (const q of qs) for (const g of new Set(q.golds)) counts.set(g, (counts.get(g) ?? 0) + 1);
    const best = Math.max(0, ...counts.values());
    for (const lang of [qs[0].language, 'all']) {
      const t = perLang.get(lang) ?? { queries: 0, hits: 0 };
      t.queries += qs.length;
      t.hits += best;
      perLang.set(lang, t);
    }
  }
  return [...perLang.entries()]
    .map(([language, t]) => ({ language, queries: t.queries, p_at_1: t.hits / t.queries }))
    .sort((a, b) => a.language.localeCompare(b.language));
}

/** The five numbers of the summary line; a part or style the run lacks is NaN (printed as such). */
export function knownAnswerSummary(r: KnownAnswerReport): KnownAnswerSummary {
  const p = (part: KnownPart, style: string) => r.cells.find((c) => c.part === part && c.language === 'all' && c.style === style)?.p_at_1 ?? NaN;
  return {
    trained_p1_word: p('trained', 'word'),
    trained_p1_entity: p('trained', 'entity'),
    heldout_p1_word: p('held-out', 'word'),
    heldout_p1_entity: p('held-out', 'entity'),
    baseline_p1: r.baseline.find((b) => b.language === 'all')?.p_at_1 ?? NaN,
  };
}

/**
 * What the check demands: trained facts recovered (P@1 >= 0.8), held-out ones not (<= baseline + 5 points), for
 * each of the word and entity styles the run has (a word-only family has no entity style to check).
 */
export function knownAnswerFailures(s: KnownAnswerSummary, styles: readonly string[] = ['word', 'entity'], minTrained = 0.8, slack = 0.05): string[] {
  const out: string[] = [];
  const checked = (['word', 'entity'] as const).filter((x) => styles.includes(x));
  if (!checked.length) out.push(`the run has neither a word nor an entity style (it has ${styles.join(', ') || 'none'})`);
  for (const style of checked) {
    const t = s[`trained_p1_${style}`];
    const h = s[`heldout_p1_${style}`];
    if (!(t >= minTrained)) out.push(`trained-fact P@1 (${style}) ${fmt(t)} < ${minTrained}`);
    if (!(h <= s.baseline_p1 + slack)) out.push(`held-out P@1 (${style}) ${fmt(h)} > baseline ${fmt(s.baseline_p1)} + ${slack}`);
  }
  return out;
}

export const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'NaN');

export function summaryLine(s: KnownAnswerSummary): string {
  return `known-answer: trained_p1_word=${fmt(s.trained_p1_word)} trained_p1_entity=${fmt(s.trained_p1_entity)} heldout_p1_word=${fmt(s.heldout_p1_word)} heldout_p1_entity=${fmt(s.heldout_p1_entity)} baseline_p1=${fmt(s.baseline_p1)}`;
}
