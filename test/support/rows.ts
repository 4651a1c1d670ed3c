import assert from 'node:assert/strict';
import { openStore, readResults, requireRun, type ResultRow } from '../../src/store/db.js';

/** A stored run's rows, status and planned count, read with the harness's own store code. */
export function storedRun(db: string, name: string): { rows: ResultRow[]; status: string; planned: number } {
  const s = openStore(db, { readonly: true });
  try {
    const run = requireRun(s, name);
    return { rows: readResults(s, run.id), status: run.status, planned: run.planned };
  } finally {
    s.db.close();
  }
}

/**
 * Rows equal in keys, golds, rankings and ranks exactly, and in scores to float32 rounding: a float32 GEMM's
 * last bits depend on how many rows share its batch, and batches differ after a resume or between shards.
 */
export function assertSameRows(a: ResultRow[], b: ResultRow[]): void {
  const shape = (rows: ResultRow[]) => rows.map((r) => ({ ...r, shard: null, gold_score: 0, top: r.top.map((t) => t.label) }));
  assert.deepEqual(shape(a), shape(b));
  a.forEach((r, i) => {
    assert.ok(Math.abs(r.gold_score - b[i].gold_score) < 1e-5);
    r.top.forEach((t, j) => assert.ok(Math.abs(t.score - b[i].top[j].score) < 1e-5));
  });
}
