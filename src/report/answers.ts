import type { ResultRow } from '../store/db.js';
import { csvLine } from './table.js';

/** One exported answer: a query under one style, its gold objects and ranked candidates with Wikidata ids. */
export interface AnswerRecord {
  language: string;
  relation: string;
  template: string;
  style: string;
  subject: string;
  sub_uri: string | null;
  golds: { label: string; obj_uri: string | null }[];
  /** Null where the answer was not scored (uncovered: no entity for the gold, so no rank means anything). */
  gold_rank: number | null;
  /** Another candidate had the best gold's exact score, so candidate order decided its rank (null: not stored). */
  tie: boolean | null;
  covered: boolean;
  candidates: number;
  top: { label: string; obj_uri: string | null; score: number }[];
}

export function answerRecord(r: ResultRow): AnswerRecord {
  return {
    language: r.language,
    relation: r.relation,
    template: r.template,
    style: r.style,
    subject: r.subject,
    sub_uri: r.sub_uri,
    golds: r.golds.map((label, i) => ({ label, obj_uri: r.gold_uris?.[i] ?? null })),
    gold_rank: r.covered ? r.gold_rank : null,
    tie: r.covered ? r.tie : null,
    covered: r.covered,
    candidates: r.candidates,
    top: r.top.map((t) => ({ label: t.label, obj_uri: t.uri ?? null, score: t.score })),
  };
}

export const ANSWER_FORMATS = ['jsonl', 'csv'] as const;
export type AnswerFormat = (typeof ANSWER_FORMATS)[number];

const TOP_K = 10;
const CSV_HEAD = [
  'language',
  'relation',
  'template',
  'style',
  'subject',
  'sub_uri',
  'golds',
  'gold_uris',
  'gold_rank',
  'tie',
  'covered',
  'candidates',
  ...Array.from({ length: TOP_K }, (_, i) => [`top${i + 1}_label`, `top${i + 1}_uri`, `top${i + 1}_score`]).flat(),
];

/** Lines of the export, header first for CSV; a generator, so a whole run never sits in memory. */
export function* answerLines(rows: Iterable<ResultRow>, format: AnswerFormat): Generator<string> {
  if (format === 'csv') yield csvLine(CSV_HEAD);
  for (const r of rows) {
    const a = answerRecord(r);
    if (format === 'jsonl') {
      yield JSON.stringify(a) + '\n';
      continue;
    }
    const top = Array.from({ length: TOP_K }, (_, i) => (a.top[i] ? [a.top[i].label, a.top[i].obj_uri ?? '', a.top[i].score] : ['', '', ''])).flat();
    const flag = (b: boolean | null) => (b === null ? '' : b ? 1 : 0);
    // Several golds (N-M relations) share one cell, separated by " | ".
    const cells = [
      a.language,
      a.relation,
      a.template,
      a.style,
      a.subject,
      a.sub_uri ?? '',
      a.golds.map((g) => g.label).join(' | '),
      a.golds.map((g) => g.obj_uri ?? '').join(' | '),
      a.gold_rank ?? '',
      flag(a.tie),
      flag(a.covered),
      a.candidates,
      ...top,
    ];
    yield csvLine(cells);
  }
}
