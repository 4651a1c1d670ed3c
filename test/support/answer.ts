import type { ResultRow } from '../../src/store/db.js';

/** A stored answer for tests that build rows by hand: the defaults describe one correct en/P19 answer. */
export function answerRow(o: Partial<ResultRow> = {}): ResultRow {
  return {
    language: 'en',
    relation: 'P19',
    template: '[X] was born in [Y] .',
    subject: 's',
    style: 'word',
    golds: ['Paris'],
    lineids: [1],
    top: [{ label: 'Paris', score: -1 }],
    gold_rank: 1,
    gold_score: -1,
    candidates: 5,
    covered: true,
    shard: null,
    sub_uri: null,
    gold_uris: null,
    tie: null,
    template_main: null,
    ...o,
  };
}
