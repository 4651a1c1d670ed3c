import assert from 'node:assert/strict';
import { test } from 'node:test';
import { languageMetrics } from '../src/report/metrics.js';
import type { ResultRow } from '../src/store/db.js';

/** A stored answer with just what the metrics read. */
export function row(relation: string, subject: string, goldRank: number, o: Partial<ResultRow> = {}): ResultRow {
  return { language: 'en', relation, template: 't', subject, style: 'word', golds: ['g'], lineids: [1], top: [{ label: 'g', score: -1 }, { label: 'h', score: -2 }], gold_rank: goldRank, gold_score: -1, candidates: 20, covered: true, shard: null, ...o };
}

test("macro P@1 skips relations whose name contains 'date' (mLAMA's rule), not P569/P570 by id", () => {
  const rows = [
    row('P19', 'a', 1),
    row('P19', 'b', 2), // P19: 0.5
    row('P569', 'c', 1), // a T-REx relation: counted, 1.0
    row('date_of_birth', 'd', 5), // GoogleRE's date relation: skipped
  ];
  const [m] = languageMetrics(rows);
  assert.equal(m.macro_p_at_1, (0.5 + 1) / 2);
});
