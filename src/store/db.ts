import Database from 'better-sqlite3';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fail, HarnessError } from '../errors.js';

/** One stored answer: the results schema, written down as a type. */
export interface ResultRow {
  language: string;
  relation: string;
  template: string;
  subject: string;
  style: string;
  golds: string[];
  lineids: number[];
  top: { label: string; score: number }[];
  gold_rank: number;
  gold_score: number;
  candidates: number;
  /** Entity styles: some gold object has an entity id. Word style: always true. */
  covered: boolean;
  shard: string | null;
}

export type RunStatus = 'running' | 'complete' | 'interrupted' | 'failed';

export interface RunRecord {
  id: number;
  name: string;
  status: RunStatus;
  started_at: string;
  finished_at: string | null;
  options: Record<string, unknown>;
  harness_version: string;
  checkpoint: Record<string, string>;
  dataset: Record<string, string>;
  random_weights: boolean;
  planned: number;
}

const MIGRATIONS: string[] = [
  `CREATE TABLE runs (
     id INTEGER PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'interrupted', 'failed')),
     started_at TEXT NOT NULL,
     finished_at TEXT,
     options TEXT NOT NULL,
     harness_version TEXT NOT NULL,
     checkpoint TEXT NOT NULL,
     dataset TEXT NOT NULL,
     random_weights INTEGER NOT NULL,
     planned INTEGER NOT NULL
   );
   CREATE TABLE results (
     run_id INTEGER NOT NULL REFERENCES runs(id),
     style TEXT NOT NULL,
     language TEXT NOT NULL,
     relation TEXT NOT NULL,
     template TEXT NOT NULL,
     subject TEXT NOT NULL,
     golds TEXT NOT NULL,
     lineids TEXT NOT NULL,
     top TEXT NOT NULL,
     gold_rank INTEGER NOT NULL,
     gold_score REAL NOT NULL,
     candidates INTEGER NOT NULL,
     covered INTEGER NOT NULL,
     shard TEXT,
     PRIMARY KEY (run_id, style, language, relation, template, subject)
   );`,
];

export interface Store {
  db: Database.Database;
  file: string;
}

/** Opens (creating and migrating) a results database. WAL lets reports read while a run writes. */
export function openStore(file: string, opts: { readonly?: boolean; busyTimeoutMs?: number } = {}): Store {
  const dir = dirname(file);
  if (opts.readonly) {
    if (!existsSync(file)) fail(`${file}: results database not found${existsSync(dir) ? '' : ` (directory ${dir} does not exist)`}`);
  } else {
    // A real write, not access(): permission bits do not stop root, but a read-only mount or sysfs does.
    const probe = join(dir, `.mlama-write-probe-${process.pid}`);
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(probe, '');
      rmSync(probe);
    } catch (e) {
      fail(`${dir}: results directory is not writable (for ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: !!opts.readonly, fileMustExist: !!opts.readonly, timeout: opts.busyTimeoutMs ?? 10000 });
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) fail(`${file}: schema version ${version} is newer than this harness knows (${MIGRATIONS.length}); upgrade mlama-harness`);
    if (!opts.readonly && version < MIGRATIONS.length) {
      db.transaction(() => {
        for (let v = version; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]);
        db.pragma(`user_version = ${MIGRATIONS.length}`);
      }).immediate();
    }
  } catch (e) {
    throw storeError(file, e);
  }
  return { db, file };
}

/**
 * Opens a store, runs `fn`, and closes it; any SQLite failure inside (busy, corrupt, read-only) becomes one line
 * naming the file instead of a stack trace.
 */
export async function withStore<T>(file: string, opts: { readonly?: boolean; busyTimeoutMs?: number }, fn: (s: Store) => T | Promise<T>): Promise<T> {
  const store = openStore(file, opts);
  try {
    return await fn(store);
  } catch (e) {
    throw ownErrors(file, e);
  } finally {
    store.db.close();
  }
}

/** withStore for synchronous work, e.g. reading inputs inside another database's transaction. */
export function withStoreSync<T>(file: string, opts: { readonly?: boolean; busyTimeoutMs?: number }, fn: (s: Store) => T): T {
  const store = openStore(file, opts);
  try {
    return fn(store);
  } catch (e) {
    throw ownErrors(file, e);
  } finally {
    store.db.close();
  }
}

/** SQLite's errors become the store's one-line errors; anything else (a bad input found meanwhile) passes through. */
function ownErrors(file: string, e: unknown): unknown {
  return (e as { name?: string })?.name === 'SqliteError' ? storeError(file, e) : e;
}

/** SQLite failures as one line naming the file; "busy" gets its own wording. */
export function storeError(file: string, e: unknown): Error {
  const err = e as { code?: string; message?: string; name?: string };
  if (e instanceof HarnessError) return e;
  if (err?.code === 'SQLITE_BUSY' || err?.code === 'SQLITE_LOCKED') return new HarnessError(`${file}: database busy (another process holds the write lock; gave up after the busy timeout)`);
  if (err?.code === 'SQLITE_NOTADB' || err?.code === 'SQLITE_CORRUPT') return new HarnessError(`${file}: not a valid results database (${err.message})`);
  if (err?.code === 'SQLITE_READONLY' || err?.code === 'SQLITE_CANTOPEN') return new HarnessError(`${file}: cannot write the results database (${err.message})`);
  return new HarnessError(`${file}: ${err?.message ?? String(e)}`);
}

function parseRun(r: Record<string, unknown>): RunRecord {
  return {
    ...(r as unknown as RunRecord),
    options: JSON.parse(r.options as string),
    checkpoint: JSON.parse(r.checkpoint as string),
    dataset: JSON.parse(r.dataset as string),
    random_weights: !!r.random_weights,
  };
}

export function findRun(s: Store, ref: string): RunRecord | undefined {
  const db = s.db;
  const row =
    ref === 'latest'
      ? db.prepare('SELECT * FROM runs ORDER BY id DESC LIMIT 1').get()
      : /^\d+$/.test(ref)
        ? db.prepare('SELECT * FROM runs WHERE id = ? OR name = ? ORDER BY name = ? DESC LIMIT 1').get(Number(ref), ref, ref)
        : db.prepare('SELECT * FROM runs WHERE name = ?').get(ref);
  return row ? parseRun(row as Record<string, unknown>) : undefined;
}

export function requireRun(s: Store, ref: string): RunRecord {
  const run = findRun(s, ref);
  if (!run) {
    const names = (s.db.prepare('SELECT name FROM runs ORDER BY id DESC LIMIT 8').all() as { name: string }[]).map((r) => r.name);
    fail(`${s.file}: no run "${ref}"${names.length ? `; recent runs: ${names.join(', ')}` : ' (the database has no runs)'}`);
  }
  return run;
}

export function listRuns(s: Store): (RunRecord & { stored: number })[] {
  return (s.db.prepare('SELECT runs.*, (SELECT COUNT(*) FROM results WHERE run_id = runs.id) AS stored FROM runs ORDER BY id').all() as Record<string, unknown>[]).map((r) => ({ ...parseRun(r), stored: r.stored as number }));
}

export function createRun(s: Store, r: Omit<RunRecord, 'id' | 'finished_at' | 'status'>): RunRecord {
  s.db
    .prepare(`INSERT INTO runs (name, status, started_at, options, harness_version, checkpoint, dataset, random_weights, planned) VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?)`)
    .run(r.name, r.started_at, JSON.stringify(r.options), r.harness_version, JSON.stringify(r.checkpoint), JSON.stringify(r.dataset), r.random_weights ? 1 : 0, r.planned);
  return requireRun(s, String(r.name));
}

export function setStatus(s: Store, runId: number, status: RunStatus): void {
  s.db.prepare('UPDATE runs SET status = ?, finished_at = ? WHERE id = ?').run(status, status === 'running' ? null : new Date().toISOString(), runId);
}

export function setPlanned(s: Store, runId: number, planned: number): void {
  s.db.prepare('UPDATE runs SET planned = ? WHERE id = ?').run(planned, runId);
}

/** Answers planned per language, kept with the options so a report can mark a language it holds only partly. */
export function setPlannedLanguages(s: Store, runId: number, byLanguage: Record<string, number>): void {
  s.db.prepare(`UPDATE runs SET options = json_set(options, '$.planned_languages', json(?)) WHERE id = ?`).run(JSON.stringify(byLanguage), runId);
}

/** Appends one batch of answers in one transaction; an existing answer is an error, never replaced. */
export function resultWriter(s: Store, runId: number): (rows: ResultRow[]) => void {
  const insert = s.db.prepare(
    `INSERT INTO results (run_id, style, language, relation, template, subject, golds, lineids, top, gold_rank, gold_score, candidates, covered, shard)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const tx = s.db.transaction((rows: ResultRow[]) => {
    for (const r of rows) {
      insert.run(runId, r.style, r.language, r.relation, r.template, r.subject, JSON.stringify(r.golds), JSON.stringify(r.lineids), JSON.stringify(r.top), r.gold_rank, r.gold_score, r.candidates, r.covered ? 1 : 0, r.shard);
    }
  });
  return (rows) => {
    try {
      tx.immediate(rows);
    } catch (e) {
      throw storeError(s.file, e);
    }
  };
}

export function readResults(s: Store, runId: number): ResultRow[] {
  return (s.db.prepare('SELECT * FROM results WHERE run_id = ? ORDER BY style, language, relation, template, subject').all(runId) as Record<string, unknown>[]).map((r) => ({
    language: r.language as string,
    relation: r.relation as string,
    template: r.template as string,
    subject: r.subject as string,
    style: r.style as string,
    golds: JSON.parse(r.golds as string),
    lineids: JSON.parse(r.lineids as string),
    top: JSON.parse(r.top as string),
    gold_rank: r.gold_rank as number,
    gold_score: r.gold_score as number,
    candidates: r.candidates as number,
    covered: !!r.covered,
    shard: (r.shard as string | null) ?? null,
  }));
}

/** Keys of stored answers, for resuming. */
export function storedKeys(s: Store, runId: number): Set<string> {
  const rows = s.db.prepare('SELECT style, language, relation, template, subject FROM results WHERE run_id = ?').raw().all(runId) as string[][];
  return new Set(rows.map((r) => resultKey(r[0], r[1], r[2], r[3], r[4])));
}

export function resultKey(style: string, language: string, relation: string, template: string, subject: string): string {
  return JSON.stringify([style, language, relation, template, subject]);
}
