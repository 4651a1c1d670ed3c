import Database from 'better-sqlite3';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
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
  /** The best candidates, best first (10 by default); `uri` is the candidate's Wikidata id when the data gives one. */
  top: { label: string; score: number; uri?: string | null; copies?: number }[];
  gold_rank: number;
  gold_score: number;
  candidates: number;
  /** Entity styles: some gold object has an entity id. Word style: always true. */
  covered: boolean;
  shard: string | null;
  /** Wikidata ids (schema 2 on; null in answers stored before): subject, gold objects in `golds` order. */
  sub_uri: string | null;
  gold_uris: (string | null)[] | null;
  /** Another candidate had exactly the best gold's score, so candidate order decided its rank. */
  tie: boolean | null;
  /** Asked with the relation's main template (templates.jsonl), not a paraphrase. */
  template_main: boolean | null;
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
  /** Absolute paths the run read, and the user's label; null for runs stored before schema version 2. */
  model_path?: string | null;
  data_path?: string | null;
  label?: string | null;
  /** Who holds a `running` run: a resume is refused while this process is alive (see src/run/lease.ts). */
  lease_pid?: number | null;
  lease_host?: string | null;
  heartbeat_at?: string | null;
  /** The holder's boot id and start time (src/run/lease.ts processStart); null where it could not be read. */
  lease_start?: string | null;
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
  // Wikidata ids for cross-lingual analyses and answer export; nullable, so answers stored before stay valid.
  `ALTER TABLE results ADD COLUMN sub_uri TEXT;
   ALTER TABLE results ADD COLUMN gold_uris TEXT;
   ALTER TABLE results ADD COLUMN tie INTEGER;
   ALTER TABLE results ADD COLUMN template_main INTEGER;`,
  // 3: what a run evaluated (paths, label), and the lease that tells a live run from a dead one.
  `ALTER TABLE runs ADD COLUMN model_path TEXT;
   ALTER TABLE runs ADD COLUMN data_path TEXT;
   ALTER TABLE runs ADD COLUMN label TEXT;
   ALTER TABLE runs ADD COLUMN lease_pid INTEGER;
   ALTER TABLE runs ADD COLUMN lease_host TEXT;
   ALTER TABLE runs ADD COLUMN heartbeat_at TEXT;`,
  // 4: when the lease holder started (see processStart): a pid reused by another process does not hold the run.
  `ALTER TABLE runs ADD COLUMN lease_start TEXT;`,
];

/** PRAGMA application_id of every results file ("mLMA"): another application's SQLite file is never touched. */
export const APPLICATION_ID = 0x6d4c4d41;
/** The tables a results file held before files were marked (schema version 1): such a file is ours, unmarked. */
const OWN_TABLES = ['results', 'runs'];

/** A results database's files: the database and what SQLite keeps beside it. */
export const storeFiles = (file: string): string[] => ['', '-wal', '-shm', '-journal'].map((side) => file + side);

export interface Store {
  db: Database.Database;
  file: string;
  /** The file's identity at open: a file deleted or replaced meanwhile is noticed (checkStoreFile). */
  identity?: { dev: number; ino: number };
  /** Opens the file itself, for a store opened with createLate on a file that did not exist (see materialize). */
  pending?: () => Store;
}

/**
 * Opens (creating and migrating) a results database. WAL lets reports read while a run writes. A read-only open
 * writes nothing (no WAL switch, no migration), so it works on a rollback-journal file and a read-only file.
 */
export function openStore(file: string, opts: StoreOptions = {}): Store {
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
  if (opts.createLate && !opts.readonly && !existsSync(file)) return lateStore(file, opts);
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: !!opts.readonly, fileMustExist: !!opts.readonly, timeout: opts.busyTimeoutMs ?? 10000 });
    if (opts.readonly) db = readableOrCopy(db, file);
  } catch (e) {
    throw storeError(file, e);
  }
  try {
    // Checked before anything is written: another application's file is refused unchanged.
    const state = fileState(db, file);
    if (opts.readonly) {
      if (state.version === 0) fail(`${file}: an empty database, not a results database (no runs stored)`);
    } else {
      useWal(db, opts.busyTimeoutMs ?? 10000);
      if (state.version < MIGRATIONS.length || state.appId !== APPLICATION_ID) migrate(db, file);
    }
    db.pragma('foreign_keys = ON');
  } catch (e) {
    db.close();
    throw storeError(file, e);
  }
  const st = statSync(file);
  return { db, file, identity: { dev: st.dev, ino: st.ino } };
}

export interface StoreOptions {
  readonly?: boolean;
  busyTimeoutMs?: number;
  /**
   * A file that does not exist yet is created only when a run is stored in it (materialize): until then the store
   * reads an empty in-memory database, so a command refused on its inputs leaves no empty results file behind.
   * Nothing is ever removed afterwards: another process may have opened the same new file meanwhile.
   */
  createLate?: boolean;
}

function lateStore(file: string, opts: StoreOptions): Store {
  const db = new Database(':memory:');
  migrate(db, file);
  db.pragma('foreign_keys = ON');
  return { db, file, pending: () => openStore(file, { ...opts, createLate: false }) };
}

/** Creates the file of a store opened with createLate, before its first write; a no-op for any other store. */
export function materialize(s: Store): void {
  if (!s.pending) return;
  const real = s.pending();
  s.db.close();
  s.db = real.db;
  s.identity = real.identity;
  s.pending = undefined;
}

/**
 * A WAL file on a read-only mount or in a read-only directory cannot be opened even for reading: SQLite needs
 * to create its -shm file beside it. Then the file (with its -wal) is read from a private copy in the temporary
 * directory, turned into a rollback-journal file there; the original is never written.
 */
function readableOrCopy(db: Database.Database, file: string): Database.Database {
  try {
    db.pragma('user_version');
    return db;
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code !== 'SQLITE_CANTOPEN') throw e;
  }
  const dir = mkdtempSync(join(tmpdir(), 'mlama-readonly-'));
  try {
    const copy = join(dir, basename(file));
    copyFileSync(file, copy);
    if (existsSync(`${file}-wal`)) copyFileSync(`${file}-wal`, `${copy}-wal`);
    const w = new Database(copy);
    w.pragma('journal_mode = DELETE');
    w.close();
    // Opened, the copy stays readable after its directory is gone.
    return new Database(copy, { readonly: true, fileMustExist: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Switching a new file to WAL needs an exclusive lock, and when two new connections both hold a shared lock and
 * want it, SQLite answers BUSY at once instead of waiting (a deadlock would follow): retry until the busy timeout.
 */
function useWal(db: Database.Database, timeoutMs: number): void {
  const until = Date.now() + timeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      if (db.pragma('journal_mode', { simple: true }) === 'wal' || db.pragma('journal_mode = WAL', { simple: true }) === 'wal') return;
    } catch (e) {
      if ((e as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > until) throw e;
    }
    if (Date.now() > until) return;
    Atomics.wait(pause, 0, 0, 2 + Math.floor(Math.random() * 20));
  }
}

/**
 * Creates or upgrades the schema under the write lock. The version is read again inside the transaction: two
 * processes opening one new file both see version 0 outside it, and only the first may create the tables.
 */
function migrate(db: Database.Database, file: string): void {
  db.transaction(() => {
    const { version } = fileState(db, file);
    for (let v = version; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]);
    if (version < MIGRATIONS.length) db.pragma(`user_version = ${MIGRATIONS.length}`);
    db.pragma(`application_id = ${APPLICATION_ID}`);
  }).immediate();
}

/** The file's mark and schema version, refusing what this harness did not write or cannot read. */
function fileState(db: Database.Database, file: string): { appId: number; version: number } {
  // One read transaction: read one by one, a schema committed in between would look like a foreign file.
  const { appId, version, tables } = db.transaction(() => ({
    appId: db.pragma('application_id', { simple: true }) as number,
    version: db.pragma('user_version', { simple: true }) as number,
    tables: db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).pluck().all() as string[],
  }))();
  if (appId !== APPLICATION_ID && appId !== 0)
    fail(`${file}: not an mlama results database (application_id ${appId} belongs to another application); it was left unchanged`);
  const legacy = appId === 0 && version >= 1 && OWN_TABLES.every((t) => tables.includes(t)) && tables.every((t) => OWN_TABLES.includes(t));
  if (appId === 0 && tables.length > 0 && !legacy) {
    fail(
      `${file}: not an mlama results database (it holds ${tables.length > 4 ? `${tables.length} tables` : `table${tables.length > 1 ? 's' : ''} ${tables.join(', ')}`} and no mlama mark); it was left unchanged`,
    );
  }
  if (version < 0 || (appId === APPLICATION_ID && version === 0))
    fail(
      `${file}: schema version ${version} (PRAGMA user_version) is not one mlama-harness writes (1 to ${MIGRATIONS.length}); the file is damaged or not a results database`,
    );
  if (version > MIGRATIONS.length) fail(`${file}: schema version ${version} is newer than this harness knows (${MIGRATIONS.length}); upgrade mlama-harness`);
  return { appId, version };
}

/**
 * Fails when the results file was deleted or replaced since it was opened: SQLite keeps writing to the unlinked
 * file, and everything written there is lost when the run closes it.
 */
export function checkStoreFile(s: Store): void {
  if (!s.identity) return;
  let st: { dev: number; ino: number } | undefined;
  try {
    st = statSync(s.file);
  } catch {}
  if (!st || st.dev !== s.identity.dev || st.ino !== s.identity.ino) {
    fail(
      `${s.file}: the results database was ${st ? 'replaced' : 'deleted'} while the run wrote to it; the answers written since it was opened are lost (start the run again)`,
    );
  }
}

/**
 * Opens a store, runs `fn`, and closes it; any SQLite failure inside (busy, corrupt, read-only) becomes one line
 * naming the file instead of a stack trace.
 */
export async function withStore<T>(file: string, opts: StoreOptions, fn: (s: Store) => T | Promise<T>): Promise<T> {
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
export function withStoreSync<T>(file: string, opts: StoreOptions, fn: (s: Store) => T): T {
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
  if (err?.code === 'SQLITE_BUSY' || err?.code === 'SQLITE_LOCKED')
    return new HarnessError(`${file}: database busy (another process holds the write lock; gave up after the busy timeout)`);
  if (err?.code === 'SQLITE_NOTADB' || err?.code === 'SQLITE_CORRUPT') return new HarnessError(`${file}: not a valid results database (${err.message})`);
  if (err?.code === 'SQLITE_READONLY' || err?.code === 'SQLITE_CANTOPEN')
    return new HarnessError(`${file}: cannot write the results database (${err.message})`);
  return new HarnessError(`${file}: ${err?.message ?? String(e)}`);
}

/** A stored JSON column's value; undefined when it does not parse (a row edited by hand or by another tool). */
function storedJson(v: unknown): unknown {
  try {
    return typeof v === 'string' ? JSON.parse(v) : v;
  } catch {
    return undefined;
  }
}

function parseRun(r: Record<string, unknown>, file: string): RunRecord {
  // A row edited by hand or by another tool gets one line naming the run and the field, not a parser's trace.
  const object = <T>(field: string): Record<string, T> => {
    const v = storedJson(r[field]);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${file}: run "${r.name}" (#${r.id}) has invalid stored ${field} (not a JSON object)`);
    return v as Record<string, T>;
  };
  const options = object<unknown>('options');
  // The stored options that reports read directly (the rest go through the option parsers on --resume).
  const badOption = (field: string, what: string) => fail(`${file}: run "${r.name}" (#${r.id}) has invalid stored options.${field} (not ${what})`);
  const styles = options.styles;
  if (styles !== undefined && !(Array.isArray(styles) && styles.every((x) => typeof x === 'string'))) badOption('styles', 'a list of style names');
  const plan = options.planned_languages;
  if (plan !== undefined && !(typeof plan === 'object' && plan !== null && !Array.isArray(plan) && Object.values(plan).every(Number.isInteger)))
    badOption('planned_languages', 'an object of query counts');
  return {
    ...(r as unknown as RunRecord),
    options,
    checkpoint: object('checkpoint'),
    dataset: object('dataset'),
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
  return row ? parseRun(row as Record<string, unknown>, s.file) : undefined;
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
  return (
    s.db.prepare('SELECT runs.*, (SELECT COUNT(*) FROM results WHERE run_id = runs.id) AS stored FROM runs ORDER BY id').all() as Record<string, unknown>[]
  ).map((r) => ({ ...parseRun(r, s.file), stored: r.stored as number }));
}

export type Lease = { pid: number; host: string; start?: string | null };
export type NewRun = Omit<RunRecord, 'id' | 'finished_at' | 'status' | 'lease_pid' | 'lease_host' | 'heartbeat_at' | 'lease_start'> & { lease?: Lease };

export function createRun(s: Store, r: NewRun): RunRecord {
  materialize(s);
  try {
    s.db
      .prepare(
        `INSERT INTO runs (name, status, started_at, options, harness_version, checkpoint, dataset, random_weights, planned, model_path, data_path, label, lease_pid, lease_host, heartbeat_at, lease_start)
         VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        r.name,
        r.started_at,
        JSON.stringify(r.options),
        r.harness_version,
        JSON.stringify(r.checkpoint),
        JSON.stringify(r.dataset),
        r.random_weights ? 1 : 0,
        r.planned,
        r.model_path ?? null,
        r.data_path ?? null,
        r.label ?? null,
        r.lease?.pid ?? null,
        r.lease?.host ?? null,
        r.lease ? new Date().toISOString() : null,
        r.lease?.start ?? null,
      );
  } catch (e) {
    // Another process took the name between our check and this insert.
    if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE')
      fail(`${s.file}: a run named "${r.name}" exists; results are never overwritten (use --resume ${r.name} or another --name)`);
    throw e;
  }
  return requireRun(s, String(r.name));
}

/** A resume that found its run completed by another process meanwhile: nothing to do, and nothing was changed. */
export class CompletedMeanwhile extends HarnessError {}

/**
 * Takes a run over for this process under the write lock: `check` sees the run as stored at that moment and
 * throws when another live process holds it, so two resumes cannot both win. A complete run is never reopened,
 * and a run that gained answers since the resume counted them (`stored`) is left as it is: the resume planned its
 * work from a stale list and would collide with the answers another process stored meanwhile.
 */
export function acquireRun(s: Store, runId: number, lease: Lease, check: (run: RunRecord) => void, label?: string, stored?: number): RunRecord {
  materialize(s);
  s.db
    .transaction(() => {
      const now = findRun(s, String(runId))!;
      if (now.status === 'complete') throw new CompletedMeanwhile(`run "${now.name}" was completed by another process meanwhile; nothing to do`, 0);
      check(now);
      const n = storedCount(s, runId);
      if (stored !== undefined && n !== stored)
        fail(
          `cannot resume "${now.name}": another process stored answers in it meanwhile (${stored} when this resume started, ${n} now; ${now.status}); it was left as it is, run --resume ${now.name} again`,
        );
      s.db
        .prepare(
          `UPDATE runs SET status = 'running', finished_at = NULL, lease_pid = ?, lease_host = ?, heartbeat_at = ?, lease_start = ?, label = COALESCE(?, label) WHERE id = ?`,
        )
        .run(lease.pid, lease.host, new Date().toISOString(), lease.start ?? null, label ?? null, runId);
    })
    .immediate();
  return findRun(s, String(runId))!;
}

export const storedCount = (s: Store, runId: number): number =>
  (s.db.prepare('SELECT COUNT(*) AS n FROM results WHERE run_id = ?').get(runId) as { n: number }).n;

/** The lease holder says it is alive; a run whose holder stops beating can be taken over. */
export function heartbeat(s: Store, runId: number, pid: number): void {
  s.db.prepare(`UPDATE runs SET heartbeat_at = ? WHERE id = ? AND lease_pid = ? AND status = 'running'`).run(new Date().toISOString(), runId, pid);
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
    `INSERT INTO results (run_id, style, language, relation, template, subject, golds, lineids, top, gold_rank, gold_score, candidates, covered, shard, sub_uri, gold_uris, tie, template_main)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const flag = (b: boolean | null) => (b === null ? null : b ? 1 : 0);
  const tx = s.db.transaction((rows: ResultRow[]) => {
    for (const r of rows) {
      insert.run(
        runId,
        lossless(r.style),
        lossless(r.language),
        lossless(r.relation),
        lossless(r.template),
        lossless(r.subject),
        JSON.stringify(r.golds),
        JSON.stringify(r.lineids),
        JSON.stringify(r.top),
        r.gold_rank,
        r.gold_score,
        r.candidates,
        r.covered ? 1 : 0,
        r.shard,
        r.sub_uri,
        r.gold_uris && JSON.stringify(r.gold_uris),
        flag(r.tie),
        flag(r.template_main),
      );
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
  return (
    s.db.prepare('SELECT * FROM results WHERE run_id = ? ORDER BY style, language, relation, template, subject').all(runId) as Record<string, unknown>[]
  ).map((r) => parseResult(r, s.file));
}

/**
 * A run's answers one at a time, in primary-key order (no sort buffer), optionally for some languages only:
 * memory stays constant however large the run.
 */
export function* iterateResults(s: Store, runId: number, languages?: string[]): Generator<ResultRow> {
  const only = languages?.length ? ` AND language IN (${languages.map(() => '?').join(', ')})` : '';
  const stmt = s.db.prepare(`SELECT * FROM results WHERE run_id = ?${only} ORDER BY style, language, relation, template, subject`);
  for (const r of stmt.iterate(runId, ...(languages ?? []))) yield parseResult(r as Record<string, unknown>, s.file);
}

/** A stored prediction: label and score, and where the candidate file lists the label more than once, that count. */
const isScored = (t: unknown) => {
  const e = t as ResultRow['top'][number];
  return (
    typeof t === 'object' &&
    t !== null &&
    typeof e.label === 'string' &&
    typeof e.score === 'number' &&
    (e.copies === undefined || (Number.isInteger(e.copies) && e.copies >= 2))
  );
};

/** What each stored answer field must hold; a row edited by hand or by another tool is refused by field. */
const RESULT_FIELDS: Record<string, [test: (v: unknown) => boolean, what: string]> = {
  golds: [(v) => Array.isArray(v) && v.length > 0 && v.every((g) => typeof g === 'string'), 'a non-empty JSON list of labels'],
  lineids: [Array.isArray, 'a JSON list'],
  top: [(v) => Array.isArray(v) && v.every(isScored), 'a JSON list of {label, score}, with copies a whole number from 2 where given'],
  gold_rank: [(v) => Number.isInteger(v) && (v as number) >= 1, 'a whole number from 1'],
  gold_score: [(v) => typeof v === 'number', 'a number'],
  candidates: [(v) => Number.isInteger(v) && (v as number) >= 0, 'a whole number'],
  gold_uris: [(v) => v === null || Array.isArray(v), 'a JSON list or null'],
};

function parseResult(r: Record<string, unknown>, file: string): ResultRow {
  const flag = (v: unknown) => (v === null || v === undefined ? null : !!v);
  const v: Record<string, unknown> = {
    golds: storedJson(r.golds),
    lineids: storedJson(r.lineids),
    top: storedJson(r.top),
    gold_rank: r.gold_rank,
    gold_score: r.gold_score,
    candidates: r.candidates,
    gold_uris: r.gold_uris === null || r.gold_uris === undefined ? null : storedJson(r.gold_uris),
  };
  for (const [field, [ok, what]] of Object.entries(RESULT_FIELDS))
    if (!ok(v[field]))
      fail(
        `${file}: run #${r.run_id}, answer ${restored(r.language)}/${restored(r.style)}/${restored(r.relation)}/${JSON.stringify(restored(r.subject))}: invalid stored ${field} (not ${what})`,
      );
  return {
    language: restored(r.language),
    relation: restored(r.relation),
    template: restored(r.template),
    subject: restored(r.subject),
    style: restored(r.style),
    golds: v.golds as string[],
    lineids: v.lineids as number[],
    top: v.top as ResultRow['top'],
    gold_rank: v.gold_rank as number,
    gold_score: v.gold_score as number,
    candidates: v.candidates as number,
    covered: !!r.covered,
    shard: (r.shard as string | null) ?? null,
    sub_uri: (r.sub_uri as string | null | undefined) ?? null,
    gold_uris: v.gold_uris as (string | null)[] | null,
    tie: flag(r.tie),
    template_main: flag(r.template_main),
  };
}

/** Keys of stored answers, for resuming. */
export function storedKeys(s: Store, runId: number): Set<string> {
  const rows = s.db.prepare('SELECT style, language, relation, template, subject FROM results WHERE run_id = ?').raw().all(runId) as (string | Buffer)[][];
  return new Set(rows.map((r) => resultKey(restored(r[0]), restored(r[1]), restored(r[2]), restored(r[3]), restored(r[4]))));
}

/**
 * SQLite stores text as UTF-8, where a lone surrogate (valid in a JS string, and in JSON data as an escape)
 * becomes U+FFFD: the key would then never match again and a resume would re-insert it forever. Such a string
 * is stored as a BLOB of its UTF-16 code units instead: lossless, and never equal to any TEXT value.
 */
const LONE_SURROGATE = /\p{Cs}/u;

export function lossless(text: string): string | Buffer {
  return LONE_SURROGATE.test(text) ? Buffer.from(text, 'utf16le') : text;
}

export function restored(value: unknown): string {
  return Buffer.isBuffer(value) ? value.toString('utf16le') : (value as string);
}

export function resultKey(style: string, language: string, relation: string, template: string, subject: string): string {
  return JSON.stringify([style, language, relation, template, subject]);
}
