import { createRun, openStore, resultWriter, setStatus, type ResultRow } from '../../src/store/db.js';
import { answerRow } from './answer.js';

/** `n` distinct hand-built answers, subjects numbered from `from`. */
export function answers(n: number, from = 0): ResultRow[] {
  return Array.from({ length: n }, (_, i) => answerRow({ subject: `subject ${String(from + i).padStart(7, '0')}`, lineids: [from + i] }));
}

/**
 * A results file holding one complete shard run of `rows`, as `mlama run --shard I/N` would leave it: enough to
 * merge without scoring anything, and as large as a test needs.
 */
export function shardFile(file: string, shard: string, rows: ResultRow[], o: { name?: string; label?: string | null } = {}): string {
  const s = openStore(file);
  try {
    const run = createRun(s, {
      name: o.name ?? 'sharded',
      started_at: new Date().toISOString(),
      options: { styles: ['word'], languages: ['en'], templates: 'main', fallback: false, shard, planned_languages: { en: rows.length } },
      harness_version: 'test',
      checkpoint: { weights: 'w' },
      dataset: { en: 'd' },
      random_weights: true,
      planned: rows.length,
      label: o.label ?? null,
    });
    const write = resultWriter(s, run.id);
    for (let i = 0; i < rows.length; i += 5000) write(rows.slice(i, i + 5000));
    setStatus(s, run.id, 'complete');
  } finally {
    s.db.close();
  }
  return file;
}
