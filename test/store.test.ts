import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { APPLICATION_ID, createRun, openStore, readResults, resultKey, resultWriter, setStatus, storedKeys, type ResultRow } from '../src/store/db.js';
import { answerRow } from './support/answer.js';
import { cli, tempDir } from './support/cli.js';

const WRITERS = 8;
const ROUNDS = 20;

/** Starts the writers and returns a function that gives the next `done`/`fail` line of each writer for a round. */
function startWriters(dir: string) {
  const lines: string[][] = [];
  const waiters: (() => void)[] = [];
  const children = Array.from({ length: WRITERS }, (_, w) => {
    lines.push([]);
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'support/store-writer.ts'), dir, String(w), String(ROUNDS)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      const parts = buf.split('\n');
      buf = parts.pop()!;
      lines[w].push(...parts);
      waiters.splice(0).forEach((f) => f());
    });
    child.stderr.on('data', (d) => lines[w].push(`stderr ${d}`));
    return child;
  });
  const until = (pred: () => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => (pred() ? resolve() : waiters.push(check));
      check();
    });
  return { lines, until, children };
}

test(`${WRITERS} processes create and write one new results file at once, ${ROUNDS} times over; integrity_check ok every time`, async () => {
  const dir = tempDir('mlama-stress-');
  const { lines, until, children } = startWriters(dir);
  try {
    await until(() => lines.every((l) => l.includes('ready')));
    for (let r = 0; r < ROUNDS; r++) {
      writeFileSync(join(dir, `go-${r}`), '');
      const outcome = (l: string[]) => l.find((x) => x === `done ${r}` || x.startsWith(`fail ${r} `) || x.startsWith('stderr'));
      await until(() => lines.every((l) => outcome(l) !== undefined));
      const failures = lines.map(outcome).filter((x) => x !== `done ${r}`);
      assert.deepEqual(failures, [], `round ${r}`);
      const db = new Database(join(dir, `round-${r}.sqlite`), { readonly: true });
      try {
        assert.equal(db.pragma('integrity_check', { simple: true }), 'ok', `round ${r}`);
        const runs = db.prepare(`SELECT status, (SELECT COUNT(*) FROM results WHERE run_id = runs.id) AS n FROM runs`).all() as { status: string; n: number }[];
        assert.equal(runs.length, WRITERS, `round ${r}`);
        assert.ok(
          runs.every((x) => x.status === 'complete' && x.n === 40),
          `round ${r}: ${JSON.stringify(runs)}`,
        );
      } finally {
        db.close();
      }
    }
  } finally {
    for (const c of children) c.kill('SIGKILL');
  }
});

/** A results file written through the store, with runs of the given names (complete, two answers each). */
function storedFile(file: string, names: string[], options: Record<string, unknown> = {}): void {
  const s = openStore(file);
  try {
    for (const name of names) {
      const run = createRun(s, {
        name,
        started_at: new Date().toISOString(),
        options: { languages: ['en'], relations: null, styles: ['word'], limit: null, templates: 'main', fallback: true, shard: null, ...options },
        harness_version: 'test',
        checkpoint: { weights: 'w' },
        dataset: { en: 'd' },
        random_weights: true,
        planned: 2,
      });
      resultWriter(s, run.id)([answer('Alice', 1), answer('Bob', 3)]);
      setStatus(s, run.id, 'complete');
    }
  } finally {
    s.db.close();
  }
}

function answer(subject: string, rank: number): ResultRow {
  return answerRow({ subject, gold_rank: rank });
}

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

test('read-only commands work on a results file in rollback-journal mode, and leave it so', async () => {
  const dir = tempDir();
  const db = join(dir, 'journal.sqlite');
  storedFile(db, ['a', 'b']);
  const shard = join(dir, 'shard.sqlite');
  storedFile(shard, ['s'], { shard: '0/1' });
  for (const f of [db, shard]) {
    const raw = new Database(f);
    raw.pragma('journal_mode = DELETE');
    raw.close();
  }
  const before = sha(db);
  for (const argv of [['report', '--run', 'a'], ['runs'], ['compare', 'a', 'b']]) {
    const r = await cli(...argv, '--db', db);
    assert.equal(r.code, 0, `${argv.join(' ')}: ${r.err}`);
  }
  const merged = await cli('merge', join(dir, 'merged.sqlite'), shard);
  assert.equal(merged.code, 0, merged.err);
  assert.match(merged.out, /into run "s" .*: 2 answers, complete/);
  assert.equal(sha(db), before);
  const raw = new Database(db, { readonly: true });
  assert.equal(raw.pragma('journal_mode', { simple: true }), 'delete');
  raw.close();
});

test('read-only commands work on a results file that cannot be written (read-only mount or directory)', async () => {
  const dir = tempDir();
  const db = join(dir, 'ro.sqlite');
  storedFile(db, ['a', 'b']);
  const before = sha(db);
  const entry = join(import.meta.dirname, '../src/cli/main-entry.ts');
  const results: { status: number | null; out: string; err: string }[] = [];
  for (const argv of [['report', '--run', 'a', '--format', 'json'], ['runs'], ['compare', 'a', 'b']]) {
    const node = [process.execPath, '--import', 'tsx', entry, ...argv, '--db', db].map((a) => `'${a}'`).join(' ');
    // Root ignores permission bits: a read-only bind mount in a private mount namespace is what stops it.
    const r =
      process.getuid?.() === 0
        ? spawnSync('unshare', ['-m', 'sh', '-c', `mount --bind -o ro '${dir}' '${dir}' && ${node}`], { encoding: 'utf8' })
        : (chmodSync(dir, 0o555), spawnSync('sh', ['-c', node], { encoding: 'utf8' }));
    results.push({ status: r.status, out: r.stdout, err: r.stderr + (r.error?.message ?? '') });
  }
  chmodSync(dir, 0o755);
  for (const r of results) assert.equal(r.status, 0, r.err);
  assert.equal(JSON.parse(results[0].out).run.name, 'a');
  assert.match(results[1].out, /│ a +│ complete/);
  assert.equal(sha(db), before);
});

test('a file the harness creates carries its application_id', () => {
  const db = join(tempDir(), 'own.sqlite');
  storedFile(db, ['a']);
  const raw = new Database(db, { readonly: true });
  assert.equal(raw.pragma('application_id', { simple: true }), APPLICATION_ID);
  raw.close();
});

/** The state of a SQLite file as a reader sees it, and its bytes. */
function snapshot(file: string) {
  const raw = new Database(file, { readonly: true });
  try {
    return {
      bytes: sha(file),
      wal: existsSync(`${file}-wal`),
      journal: raw.pragma('journal_mode', { simple: true }),
      version: raw.pragma('user_version', { simple: true }),
      tables: raw.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).pluck().all(),
    };
  } finally {
    raw.close();
  }
}

test("another application's SQLite file given as --db is refused with one line and left unchanged", async () => {
  const dir = tempDir();
  const withRuns = join(dir, 'other.sqlite');
  let raw = new Database(withRuns);
  raw.exec(
    `CREATE TABLE runs (id INTEGER PRIMARY KEY, track TEXT, km REAL); INSERT INTO runs (track, km) VALUES ('park', 5.2); CREATE TABLE notes (body TEXT);`,
  );
  raw.close();
  const marked = join(dir, 'marked.sqlite');
  raw = new Database(marked);
  raw.pragma('application_id = 42');
  raw.exec('CREATE TABLE t (x)');
  raw.close();
  for (const file of [withRuns, marked]) {
    const before = snapshot(file);
    for (const argv of [
      ['report', '--db', file],
      ['runs', '--db', file],
      ['compare', '1', '2', '--db', file],
      ['run', '--model', join(dir, 'none'), '--data', join(dir, 'none'), '--db', file],
      ['merge', file, join(dir, 'none.sqlite')],
    ]) {
      const r = await cli(...argv);
      const why = `${argv[0]} on ${file}`;
      assert.equal(r.code, 2, `${why}: ${r.err}`);
      assert.match(r.err, /^error: .*\.sqlite: not an mlama results database \(.*\); it was left unchanged\n$/, why);
      assert.deepEqual(snapshot(file), before, why);
    }
  }
  const merged = await cli('merge', join(dir, 'out.sqlite'), withRuns);
  assert.equal(merged.code, 2);
  assert.match(merged.err, /other\.sqlite: not an mlama results database/);
  assert.deepEqual(snapshot(withRuns).tables, ['notes', 'runs']);
});

test('a schema version of -1, or newer than this harness knows, gets one clear line', async () => {
  const dir = tempDir();
  for (const [version, message] of [
    [-1, /schema version -1 \(PRAGMA user_version\) is not one mlama-harness writes \(1 to \d+\); the file is damaged or not a results database/],
    [99, /schema version 99 is newer than this harness knows \(\d+\); upgrade mlama-harness/],
  ] as const) {
    const db = join(dir, `v${version}.sqlite`);
    storedFile(db, ['a']);
    const raw = new Database(db);
    raw.pragma(`user_version = ${version}`);
    raw.close();
    const before = snapshot(db);
    for (const argv of [['runs'], ['run', '--model', join(dir, 'none'), '--data', join(dir, 'none')]]) {
      const r = await cli(...argv, '--db', db);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, message);
      assert.equal(r.err.split('\n').filter(Boolean).length, 1, r.err);
      // A reader of a WAL file may leave an empty -wal beside it; the database itself must not change.
      assert.deepEqual({ ...snapshot(db), wal: before.wal }, before);
    }
  }
});

/** The schema of version 1, as the first releases wrote it (no application_id, no paths, no lease). */
const SCHEMA_V1 = `CREATE TABLE runs (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'interrupted', 'failed')), started_at TEXT NOT NULL, finished_at TEXT,
  options TEXT NOT NULL, harness_version TEXT NOT NULL, checkpoint TEXT NOT NULL, dataset TEXT NOT NULL, random_weights INTEGER NOT NULL, planned INTEGER NOT NULL);
CREATE TABLE results (run_id INTEGER NOT NULL REFERENCES runs(id), style TEXT NOT NULL, language TEXT NOT NULL, relation TEXT NOT NULL, template TEXT NOT NULL,
  subject TEXT NOT NULL, golds TEXT NOT NULL, lineids TEXT NOT NULL, top TEXT NOT NULL, gold_rank INTEGER NOT NULL, gold_score REAL NOT NULL,
  candidates INTEGER NOT NULL, covered INTEGER NOT NULL, shard TEXT, PRIMARY KEY (run_id, style, language, relation, template, subject));`;

test('a version-1 database (before files were marked) is read as it is, and migrates on the next write with nothing lost', async () => {
  const db = join(tempDir(), 'v1.sqlite');
  const raw = new Database(db);
  raw.pragma('journal_mode = WAL');
  raw.exec(SCHEMA_V1);
  raw
    .prepare(
      `INSERT INTO runs VALUES (1, 'old', 'complete', '2026-01-01T00:00:00Z', '2026-01-01T01:00:00Z', ?, '0.1.0', '{"weights":"w"}', '{"en":"d"}', 1, 2)`,
    )
    .run(JSON.stringify({ languages: ['en'], styles: ['word'] }));
  for (const [subject, rank] of [
    ['Alice', 1],
    ['Bob', 4],
  ] as const) {
    raw
      .prepare(`INSERT INTO results VALUES (1, 'word', 'en', 'P19', 't', ?, '["Paris"]', '[1]', '[{"label":"Paris","score":-1}]', ?, -1, 5, 1, NULL)`)
      .run(subject, rank);
  }
  raw.pragma('user_version = 1');
  raw.close();
  const before = sha(db);
  const listed = await cli('runs', '--db', db, '--format', 'json');
  assert.equal(listed.code, 0, listed.err);
  assert.deepEqual(
    JSON.parse(listed.out).map((r: any) => [r.name, r.status, r.answers, r.model, r.label]),
    [['old', 'complete', 2, null, null]],
  );
  assert.equal(sha(db), before, 'reading does not migrate');
  const reportBefore = JSON.parse((await cli('report', '--db', db, '--run', 'old', '--format', 'json')).out);
  storedFile(db, ['new']);
  const after = new Database(db, { readonly: true });
  assert.equal((after.pragma('user_version', { simple: true }) as number) > 1, true);
  assert.equal(after.pragma('application_id', { simple: true }), APPLICATION_ID);
  assert.deepEqual(after.prepare(`SELECT subject, gold_rank FROM results WHERE run_id = 1 ORDER BY subject`).all(), [
    { subject: 'Alice', gold_rank: 1 },
    { subject: 'Bob', gold_rank: 4 },
  ]);
  after.close();
  const reportAfter = JSON.parse((await cli('report', '--db', db, '--run', 'old', '--format', 'json')).out);
  assert.deepEqual(reportAfter.languages, reportBefore.languages);
  assert.deepEqual((await cli('runs', '--db', db, '--format', 'json')).out.match(/"name": "\w+"/g), ['"name": "old"', '"name": "new"']);
});

test('result keys holding lone surrogates round-trip, so a resume finds them stored', () => {
  const db = join(tempDir(), 'surrogates.sqlite');
  const s = openStore(db);
  try {
    const run = createRun(s, {
      name: 'r',
      started_at: 'now',
      options: {},
      harness_version: 'test',
      checkpoint: {},
      dataset: {},
      random_weights: true,
      planned: 4,
    });
    // Two labels that differ only in their lone surrogate, one with a pair (a real character), one plain.
    const subjects = ['Ba\uD800d', 'Ba\uDC00d', 'Ba\uD83D\uDE00d', 'Bad'];
    resultWriter(s, run.id)(subjects.map((x) => ({ ...answer(x, 1), template: `[X] \uDFFF [Y]` })));
    const keys = storedKeys(s, run.id);
    for (const x of subjects) assert.ok(keys.has(resultKey('word', 'en', 'P19', `[X] \uDFFF [Y]`, x)), JSON.stringify(x));
    assert.deepEqual(
      readResults(s, run.id)
        .map((r) => r.subject)
        .sort(),
      [...subjects].sort(),
    );
  } finally {
    s.db.close();
  }
});
