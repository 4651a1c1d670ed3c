import type { RelationSet } from '../data/types.js';
import type { Protocol } from '../run/protocols.js';
import type { ResultRow } from '../store/db.js';
import { mean, pct } from '../stats.js';
import { isDateRelation } from './metrics.js';

/** What the protocol metrics read of a stored answer. */
export type ProtocolRow = Pick<ResultRow, 'language' | 'relation' | 'template' | 'subject' | 'style' | 'golds' | 'lineids' | 'top'> &
  Partial<Pick<ResultRow, 'template_main'>>;

export interface AuthorsPrecision {
  style: string;
  language: string;
  /** Unique question strings: the filled template with [Y] left in, across relations. */
  questions: number;
  /** Hits@k over the questions, as fractions, by k. */
  p: Record<number, number>;
  /** Questions whose answer's score equals another entry's within tolerance: their order decides the rank. */
  ties: number;
}

const TOLERANCE = 1e-9;

/**
 * P@k as the authors' evaluate.py prints it, from stored answers (stored with top-100): results are keyed by the
 * question string (so two relations sharing a template and subject are one question), every triple of a question
 * appends all its candidates again, and the answer is the object of the last triple read. An answer ranks where
 * its first copy stands in that list: one plus every entry of every triple that scored higher.
 * `relationOrder`: the order the script reads relations (templates.jsonl); absent, the rows' order.
 */
export function authorsPrecision(rows: readonly ProtocolRow[], ks: readonly number[], relationOrder?: readonly string[]): AuthorsPrecision[] {
  const order = (r: ProtocolRow) => (relationOrder ? relationOrder.indexOf(r.relation) : 0);
  const groups = new Map<string, ProtocolRow[]>();
  for (const r of rows) {
    const key = `${r.style}\u0000${r.language}\u0000${r.template.split('[X]').join(r.subject)}`;
    const g = groups.get(key) ?? [];
    g.push(r);
    groups.set(key, g);
  }
  const out = new Map<string, AuthorsPrecision>();
  for (const g of groups.values()) {
    const last = g.reduce((a, b) => (order(b) > order(a) || (order(b) === order(a) && Math.max(...b.lineids) > Math.max(...a.lineids)) ? b : a));
    const answer = last.golds.at(-1)!;
    const mine = last.top.find((t) => t.label === answer);
    const ahead = mine ? g.reduce((n, r) => n + r.lineids.length * r.top.filter((t) => t.score > mine.score + TOLERANCE).length, 0) : Number.POSITIVE_INFINITY;
    const tied = mine ? g.some((r) => r.top.some((t) => t.label !== answer && Math.abs(t.score - mine.score) <= TOLERANCE)) : false;
    const id = `${last.style}\u0000${last.language}`;
    const m = out.get(id) ?? { style: last.style, language: last.language, questions: 0, p: Object.fromEntries(ks.map((k) => [k, 0])), ties: 0 };
    m.questions += 1;
    if (tied) m.ties += 1;
    for (const k of ks) if (ahead + 1 <= k) m.p[k] += 1;
    out.set(id, m);
  }
  for (const m of out.values()) for (const k of ks) m.p[k] /= m.questions;
  return [...out.values()];
}

export interface MlamaPrecision {
  style: string;
  language: string;
  /** P@1 per relation: the triples whose own object ranks first, the subject's other objects competing. */
  relations: Record<string, { triples: number; p1: number }>;
  /** The mean of the relations' P@1 (date relations skipped); null when every relation was skipped. */
  p1: number | null;
  skipped: string[];
}

/** mLAMA's original P@1: one query per triple, averaged per relation, then over the relations of a language. */
export function mlamaPrecision(rows: readonly ProtocolRow[]): MlamaPrecision[] {
  const out = new Map<string, MlamaPrecision & { hits: Map<string, [number, number]> }>();
  for (const r of rows) {
    const id = `${r.style}\u0000${r.language}`;
    const m = out.get(id) ?? { style: r.style, language: r.language, relations: {}, p1: 0, skipped: [] as string[], hits: new Map<string, [number, number]>() };
    out.set(id, m);
    if (isDateRelation(r.relation)) {
      if (!m.skipped.includes(r.relation)) m.skipped.push(r.relation);
      continue;
    }
    const h = m.hits.get(r.relation) ?? [0, 0];
    for (const g of r.golds) {
      h[0] += r.top[0]?.label === g ? 1 : 0;
      h[1] += 1;
    }
    m.hits.set(r.relation, h);
  }
  return [...out.values()].map(({ hits, ...m }) => {
    const relations = Object.fromEntries([...hits].map(([rel, [n, t]]) => [rel, { triples: t, p1: n / t }]));
    const values = Object.values(relations).map((x) => x.p1);
    return { ...m, relations, p1: mean(values) };
  });
}

export interface ScriptCrashes {
  /** Triples under a template with [Y] before [X]: the script's template regex finds no match and it stops. */
  yBeforeX: number;
  /** Triples whose object is not in the candidate file: the script's assertion stops it (the harness adds them). */
  goldMissing: number;
}

/** What the authors' script would have stopped on, counted over the sets a run reads. */
export function scriptCrashes(sets: Iterable<RelationSet>): ScriptCrashes {
  const c: ScriptCrashes = { yBeforeX: 0, goldMissing: 0 };
  for (const set of sets) {
    const text = set.template.text;
    const triples = set.queries.reduce((n, q) => n + q.lineids.length, 0);
    if (text.indexOf('[Y]') < text.indexOf('[X]')) c.yBeforeX += triples;
    const added = new Set(set.candidates.slice(set.candidates.length - set.goldAdded).map((x) => x.label));
    for (const q of set.queries) for (const g of q.golds) if (added.has(g.label)) c.goldMissing += 1;
  }
  return c;
}

/** A run's numbers as its protocol defines them, beside the per-query table every run has. */
export interface ProtocolMetrics {
  protocol: string;
  authors?: AuthorsPrecision[];
  mlama?: MlamaPrecision[];
}

/** The protocol's own metric of a run's rows: none for the paper, whose numbers are the report's table. */
export function protocolMetrics(protocol: Protocol, all: readonly ProtocolRow[]): ProtocolMetrics | undefined {
  // Both scripts read each relation's main template only: answers to paraphrases (--templates all) are left out.
  const rows = all.filter((r) => r.template_main !== false);
  if (protocol.averaging === 'micro-questions') return { protocol: protocol.name, authors: authorsPrecision(rows, protocol.ks) };
  if (protocol.averaging === 'relation-then-language') return { protocol: protocol.name, mlama: mlamaPrecision(rows) };
  return undefined;
}

/** One line per style and language, as the protocol's script would print it. */
export function protocolMetricLines(m: ProtocolMetrics): string[] {
  const authors = (m.authors ?? []).map(
    (a) =>
      `${m.protocol} ${a.style} ${a.language}: ${Object.entries(a.p)
        .map(([k, v]) => `P@${k} ${pct(v)}`)
        .join(' ')} over ${a.questions} question strings${a.ties ? ` (${a.ties} with a tied answer score)` : ''}`,
  );
  const mlama = (m.mlama ?? []).map(
    (x) =>
      `${m.protocol} ${x.style} ${x.language}: P@1 ${pct(x.p1)} averaged over ${Object.keys(x.relations).length} relations${x.skipped.length ? ` (${x.skipped.join(', ')} skipped)` : ''}`,
  );
  return [...authors, ...mlama];
}
