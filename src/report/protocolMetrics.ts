import type { RelationSet } from '../data/types.js';
import type { Protocol } from '../run/protocols.js';
import type { ResultRow } from '../store/db.js';
import { mean, pct } from '../stats.js';
import { isDateRelation } from './metrics.js';

/** What the protocol metrics read of a stored answer. */
export type ProtocolRow = Pick<ResultRow, 'language' | 'relation' | 'template' | 'subject' | 'style' | 'golds' | 'lineids' | 'top' | 'candidates'> &
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

/** One question string as the authors' script ranks it (see authorsPrecision). */
export interface AuthorsQuestion {
  style: string;
  language: string;
  /** The filled template with [Y] left in: their script's key. */
  question: string;
  /** The object of the last triple read: the only answer. */
  answer: string;
  /** The best entry of every triple's candidates: the script's top-1 (the first read among equal scores). */
  top1: { label: string; score: number };
  /** Where the answer's first copy stands, ties in the script's reading order; Infinity when it is past the
   * stored candidates. */
  rank: number;
  /** Its rank if every tie went its way: one plus the entries that scored higher beyond tolerance. */
  bestRank: number;
  /** Entries of other labels scoring within tolerance of the answer (their order decides the rank): if every tie
   * went against it, bestRank + tiedWith. */
  tiedWith: number;
}

/**
 * The question strings of stored answers, ranked as the authors' evaluate.py ranks them: results are keyed by the
 * question string (so two relations sharing a template and subject are one question), every triple of a question
 * appends all its candidates again, and the answer is the object of the last triple read. An answer ranks where
 * its first copy stands in that list: one plus every entry of every triple that scored higher, a label the
 * candidate file lists twice counted twice.
 * `relationOrder`: the order the script reads relations (templates.jsonl); absent, the rows' order.
 */
export function authorsQuestions(rows: readonly ProtocolRow[], relationOrder?: readonly string[], tolerance = TOLERANCE): AuthorsQuestion[] {
  const order = (r: ProtocolRow) => (relationOrder ? relationOrder.indexOf(r.relation) : 0);
  const read = (a: ProtocolRow, b: ProtocolRow) => order(a) - order(b) || Math.max(...a.lineids) - Math.max(...b.lineids);
  const groups = new Map<string, ProtocolRow[]>();
  for (const r of rows) {
    const key = `${r.style}\u0000${r.language}\u0000${questionOf(r)}`;
    const g = groups.get(key) ?? [];
    g.push(r);
    groups.set(key, g);
  }
  return [...groups.values()].map((unsorted) => {
    const g = [...unsorted].sort(read);
    const last = g.at(-1)!;
    const answer = last.golds.at(-1)!;
    // The answer's first copy is its best-scored one, whichever relation's triple put it there.
    const mine = g
      .flatMap((r) => r.top.filter((t) => t.label === answer))
      .reduce<{ score: number } | undefined>((a, t) => (a && a.score >= t.score ? a : t), undefined);
    const others = (r: ProtocolRow, keep: (score: number) => boolean) => r.top.filter((t) => t.label !== answer && keep(t.score));
    // A label the file lists twice stands in their list twice, and every triple appends its candidates again.
    const copies = (ts: ProtocolRow['top']) => ts.reduce((c, t) => c + (t.copies ?? 1), 0);
    const entries = (keep: (score: number) => boolean, rs = g) => rs.reduce((n, r) => n + r.lineids.length * copies(others(r, keep)), 0);
    const higher = (score: number) => score > mine!.score + tolerance;
    // A row whose every stored candidate scored higher may hold more past them: the rank is past what is stored.
    const past = !mine || g.some((r) => r.candidates > r.top.length && others(r, higher).length === r.top.length);
    const ahead = past ? Number.POSITIVE_INFINITY : entries(higher);
    const tied = (score: number) => Math.abs(score - mine!.score) <= tolerance;
    const tiedWith = mine ? entries(tied) : 0;
    // Among tied entries the script keeps reading order: rows read earlier, then its own row's candidates listed
    // before it (the stored order breaks exact ties by candidate order too; a repeated label's copies are taken
    // to stand where its first does).
    const home = g.findIndex((r) => r.top.some((t) => t.label === answer && tied(t.score)));
    const listedBefore = (r: ProtocolRow) =>
      r.top.slice(
        0,
        r.top.findIndex((x) => x.label === answer),
      );
    const tiedBefore = mine ? entries(tied, g.slice(0, home)) + copies(listedBefore(g[home]).filter((t) => tied(t.score))) : 0;
    const top1 = g.flatMap((r) => r.top.slice(0, 1)).reduce((a, b) => (b.score > a.score ? b : a), { label: '', score: Number.NEGATIVE_INFINITY });
    return {
      style: last.style,
      language: last.language,
      question: questionOf(last),
      answer,
      top1: { label: top1.label, score: top1.score },
      rank: ahead + tiedBefore + 1,
      bestRank: ahead + 1,
      tiedWith,
    };
  });
}

const questionOf = (r: ProtocolRow) => r.template.split('[X]').join(r.subject);

/** P@k as the authors' evaluate.py prints it, from stored answers (stored with top-100), over authorsQuestions. */
export function authorsPrecision(rows: readonly ProtocolRow[], ks: readonly number[], relationOrder?: readonly string[]): AuthorsPrecision[] {
  const out = new Map<string, AuthorsPrecision>();
  for (const q of authorsQuestions(rows, relationOrder)) {
    const id = `${q.style}\u0000${q.language}`;
    const m = out.get(id) ?? { style: q.style, language: q.language, questions: 0, p: Object.fromEntries(ks.map((k) => [k, 0])), ties: 0 };
    m.questions += 1;
    if (q.tiedWith > 0) m.ties += 1;
    for (const k of ks) if (q.rank <= k) m.p[k] += 1;
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
  /** What a run stored by an earlier release counts otherwise than its script (see olderRelease). */
  notes?: string[];
}

/** A release's numbers, compared part by part. */
const releaseBefore = (v: string, w: string) => {
  const [a, b] = [v, w].map((x) => x.split('.').map(Number));
  const i = a.findIndex((n, j) => n !== b[j]);
  return i >= 0 && a[i] < b[i];
};

/**
 * 0.2.0 brought both presets in line with their scripts, found by running them (docs/PROTOCOLS.md): answers stored
 * before it lack what the new counting reads, so a run of an earlier release says so rather than mix the two.
 */
export function olderRelease(protocol: Protocol, storedBy: string | undefined): string[] {
  if (!storedBy || !releaseBefore(storedBy, '0.2.0')) return [];
  if (protocol.averaging === 'micro-questions')
    return [
      `note: stored by mlama-harness ${storedBy}: a candidate the file lists twice counts once in these ranks (their script counts every copy, as runs from 0.2.0 do); rerun to count as it does`,
    ];
  if (protocol.averaging === 'relation-then-language')
    return [
      `note: stored by mlama-harness ${storedBy}: with a WordPiece (BERT) model the sentence was built in context, not as mLAMA's tokenizer builds it (runs from 0.2.0 do); rerun to count as it does`,
    ];
  return [];
}

/** The protocol's own metric of a run's rows: none for the paper, whose numbers are the report's table. */
export function protocolMetrics(protocol: Protocol, all: readonly ProtocolRow[], storedBy?: string): ProtocolMetrics | undefined {
  // Both scripts read each relation's main template only: answers to paraphrases (--templates all) are left out.
  const rows = all.filter((r) => r.template_main !== false);
  const notes = olderRelease(protocol, storedBy);
  const noted = notes.length ? { notes } : {};
  if (protocol.averaging === 'micro-questions') return { protocol: protocol.name, authors: authorsPrecision(rows, protocol.ks), ...noted };
  if (protocol.averaging === 'relation-then-language') return { protocol: protocol.name, mlama: mlamaPrecision(rows), ...noted };
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
  return [...authors, ...mlama, ...(m.notes ?? [])];
}
