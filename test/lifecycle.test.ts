import assert from 'node:assert/strict';
import { appendFileSync, closeSync, cpSync, existsSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { cli, SAMPLE_DATA, sampleCopy, tempDir } from './support/cli.js';
import { tinyCheckpoint } from './support/fixtures.js';
import { mlamaProcess, type Spawned } from './support/spawn.js';
import { storedRun } from './support/rows.js';

const ck = tinyCheckpoint(1, false, SAMPLE_DATA);
const WORD_TOTAL = 1196;
const runArgs = (db: string, model = ck, data = SAMPLE_DATA) => [
  'run',
  '--model',
  model,
  '--data',
  data,
  '--styles',
  'word',
  '--threads',
  '1',
  '--batch-size',
  '8',
  '--db',
  db,
];
const PACKAGE_VERSION = JSON.parse((await import('node:fs')).readFileSync(join(import.meta.dirname, '../package.json'), 'utf8')).version;

/** Runs the built CLI and calls `act` once the run has stored `rows` answers, while it still runs. */
function runUntil(
  args: string[],
  db: string,
  rows: number,
  act: (kill: (s: NodeJS.Signals) => void) => void | Promise<void>,
): Promise<Spawned & { acted: boolean }> {
  let acted = false;
  return mlamaProcess(args, {}, (kill) => {
    const timer = setInterval(() => {
      if (!existsSync(db) || acted) return;
      try {
        const d = new Database(db, { readonly: true, timeout: 1000 });
        try {
          const r = d.prepare(`SELECT status, (SELECT COUNT(*) FROM results WHERE run_id = runs.id) AS n FROM runs`).get() as
            | { status: string; n: number }
            | undefined;
          if (r && r.status === 'running' && r.n >= rows) {
            acted = true;
            clearInterval(timer);
            void act(kill);
          }
        } finally {
          d.close();
        }
      } catch {
        // The schema may not exist yet.
      }
    }, 5);
    setTimeout(() => clearInterval(timer), 120000).unref();
  }).then((r) => ({ ...r, acted }));
}

const runsJson = async (db: string) => JSON.parse((await cli('runs', '--db', db, '--format', 'json')).out) as Record<string, any>[];

test('a run whose graph does not load is not stored: no `running` run with 0 answers, and its name stays free', async () => {
  const broken = join(tempDir(), 'broken');
  cpSync(ck, broken, { recursive: true });
  writeFileSync(join(broken, 'model.onnx'), 'not an onnx graph');
  const db = join(tempDir(), 'r.sqlite');
  const r = await cli(...runArgs(db, broken), '--languages', 'en', '--limit', '1', '--name', 'first');
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /onnxruntime cannot load the graph/);
  // Not even an empty results file (issue 30): the file is created when a run is stored in it.
  assert.equal(existsSync(db), false);
  const again = await cli(...runArgs(db), '--languages', 'en', '--limit', '1', '--name', 'first');
  assert.equal(again.code, 0, again.err);
  assert.match(again.out, /run "first" complete/);
});

test('a second --resume of a live run is refused naming its holder; once it is dead, --resume NAME alone continues it', async () => {
  const db = join(tempDir(), 'live.sqlite');
  let second: Awaited<ReturnType<typeof cli>> | undefined;
  let heldBy: string | null = null;
  const first = await runUntil([...runArgs(db), '--name', 'live'], db, 8, async (kill) => {
    second = await cli('run', '--resume', 'live', '--db', db);
    heldBy = (await runsJson(db))[0].held_by;
    kill('SIGKILL');
  });
  assert.ok(first.acted, `the run finished before it could be resumed a second time: ${first.err}`);
  assert.equal(first.signal, 'SIGKILL');
  assert.equal(second!.code, 2, second!.err);
  assert.match(second!.err, /^error: cannot resume "live": it is still running \(pid \d+ on [^,]+, last heartbeat [^)]+\); wait for it or stop it first\n$/);
  assert.match(String(heldBy), /^pid \d+ on /);
  const dead = (await runsJson(db))[0];
  assert.equal(dead.status, 'running');
  assert.equal(dead.held_by, null);
  assert.match((await cli('runs', '--db', db)).out, /│ live +│ running \(holder gone\) │/);
  const name = await cli(...runArgs(db), '--name', 'live');
  assert.equal(name.code, 2);
  assert.match(
    name.err,
    /a run named "live" exists; results are never overwritten \(it was left running by a process that is gone: continue it with --resume live\)/,
  );
  // No --model, --data or --styles: the stored paths and options are used.
  const resumed = await cli('run', '--resume', 'live', '--db', db);
  assert.equal(resumed.code, 0, resumed.err);
  assert.match(resumed.out, new RegExp(`run "live" complete: ${WORD_TOTAL}/${WORD_TOTAL} answers`));
  assert.equal(storedRun(db, 'live').rows.length, WORD_TOTAL);
});

test('a run held from another host is refused while its heartbeat is fresh and taken over once it is stale', async () => {
  const db = join(tempDir(), 'hosts.sqlite');
  const first = await cli(...runArgs(db), '--languages', 'en', '--limit', '2', '--name', 'h');
  assert.equal(first.code, 0, first.err);
  const planned = storedRun(db, 'h').planned;
  const lease = (ago: number) => {
    const raw = new Database(db);
    raw
      .prepare(`UPDATE runs SET status = 'running', lease_pid = 1, lease_host = 'another-host.example', heartbeat_at = ? WHERE name = 'h'`)
      .run(new Date(Date.now() - ago).toISOString());
    raw.prepare(`DELETE FROM results WHERE rowid IN (SELECT rowid FROM results LIMIT 3)`).run();
    raw.close();
  };
  lease(1000);
  const refused = await cli('run', '--resume', 'h', '--db', db);
  assert.equal(refused.code, 2);
  assert.match(refused.err, /cannot resume "h": it is still running \(pid 1 on another-host\.example/);
  lease(10 * 60 * 1000);
  const taken = await cli('run', '--resume', 'h', '--db', db);
  assert.equal(taken.code, 0, taken.err);
  assert.equal(storedRun(db, 'h').status, 'complete');
  assert.equal(storedRun(db, 'h').rows.length, planned);
});

test('a writer that gives up on "database busy" leaves a run that --resume can take over', async () => {
  const db = join(tempDir(), 'busy.sqlite');
  let holder: Database.Database | undefined;
  const r = await runUntil([...runArgs(db), '--name', 'b', '--busy-timeout', '300'], db, 8, () => {
    holder = new Database(db, { timeout: 60000 });
    holder.exec('BEGIN IMMEDIATE');
  });
  holder?.exec('ROLLBACK');
  holder?.close();
  assert.ok(r.acted, `the run finished before the lock was taken: ${r.err}`);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /busy\.sqlite: database busy/);
  const left = (await runsJson(db))[0];
  assert.ok(left.status === 'failed' || left.status === 'running', left.status);
  const resumed = await cli('run', '--resume', 'b', '--db', db);
  assert.equal(resumed.code, 0, resumed.err);
  assert.equal(storedRun(db, 'b').rows.length, WORD_TOTAL);
});

test('runs store model path, data path and label; runs shows them, also as JSON; --version prints the package version', async () => {
  const db = join(tempDir(), 'paths.sqlite');
  const r = await cli(...runArgs(db), '--languages', 'en', '--limit', '1', '--name', 'p', '--label', 'tiny seed 1, en smoke');
  assert.equal(r.code, 0, r.err);
  const [run] = await runsJson(db);
  assert.deepEqual(
    [run.name, run.label, run.model, run.data, run.status, run.answers],
    ['p', 'tiny seed 1, en smoke', resolve(ck), resolve(SAMPLE_DATA), 'complete', run.planned],
  );
  const table = await cli('runs', '--db', db);
  assert.match(table.out, /tiny seed 1, en smoke/);
  assert.ok(table.out.includes(resolve(ck)));
  const report = await cli('report', '--db', db);
  assert.match(report.out, /run p \(#1, complete\) {2}"tiny seed 1, en smoke"/);
  assert.ok(report.out.includes(`\nmodel ${resolve(ck)}  data `), report.out);
  const version = await cli('--version');
  assert.equal(version.code, 0);
  assert.equal(version.out, `${PACKAGE_VERSION}\n`);
});

test('resume and compare tell apart data changed in a language that only the entity fallback reads', async () => {
  const db = join(tempDir(), 'fallback.sqlite');
  const data = sampleCopy();
  const first = await cli(...runArgs(db, ck, data), '--languages', 'en', '--limit', '1', '--name', 'f');
  assert.equal(first.code, 0, first.err);
  const raw = new Database(db);
  raw.exec(`UPDATE runs SET status = 'interrupted'; DELETE FROM results WHERE rowid IN (SELECT rowid FROM results LIMIT 2)`);
  raw.close();
  appendFileSync(join(data, 'ar', 'P19.jsonl'), '{"sub_uri": "Q1", "obj_uri": "Q90", "sub_label": "أحد", "obj_label": "باريس", "lineid": 999999}\n');
  const resumed = await cli('run', '--resume', 'f', '--db', db);
  assert.equal(resumed.code, 2);
  assert.match(resumed.err, /cannot resume "f": it was run with different inputs \(dataset ar: "[0-9a-f]+" vs "[0-9a-f]+"\)/);
  assert.equal((await cli(...runArgs(db, ck, data), '--languages', 'en', '--limit', '1', '--name', 'g')).code, 0);
  const compared = await cli('compare', 'f', 'g', '--db', db);
  assert.equal(compared.code, 2);
  assert.match(compared.err, /differ in dataset ar: /);
});

/** Overwrites 4 KiB in the middle of a file in place, as a copy over an mmapped weights file does. */
function overwriteInPlace(file: string): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, Buffer.alloc(4096, 0x3e), 0, 4096, Math.floor(statSync(file).size / 2));
  } finally {
    closeSync(fd);
  }
}

test('weights or data rewritten during a run, or the results file deleted, fail the run naming what changed', async () => {
  const model = join(tempDir(), 'ck');
  cpSync(ck, model, { recursive: true });
  const data = sampleCopy();
  const dir = tempDir();
  const dbs = { weights: join(dir, 'w.sqlite'), data: join(dir, 'd.sqlite'), deleted: join(dir, 'x.sqlite') };
  const [weights, rewritten, deleted] = await Promise.all([
    runUntil([...runArgs(dbs.weights, model), '--name', 'w'], dbs.weights, 8, () => overwriteInPlace(join(model, 'weights.bin'))),
    runUntil([...runArgs(dbs.data, ck, data), '--name', 'd'], dbs.data, 8, () =>
      appendFileSync(join(data, 'zh', 'P19.jsonl'), '{"sub_uri": "Q1", "obj_uri": "Q90", "sub_label": "某人", "obj_label": "巴黎", "lineid": 999999}\n'),
    ),
    runUntil([...runArgs(dbs.deleted), '--name', 'x'], dbs.deleted, 8, () => {
      for (const f of ['', '-wal', '-shm']) rmSync(dbs.deleted + f, { force: true });
    }),
  ]);
  for (const r of [weights, rewritten, deleted]) {
    assert.ok(r.acted, `the run finished before its input changed: ${r.out}`);
    assert.equal(r.code, 2, r.err);
    assert.doesNotMatch(r.out, /complete: .* answers stored in/);
  }
  assert.match(weights.err, /\nerror: run "w" failed: its inputs changed while it ran \(checkpoint weights: "[0-9a-f]+" vs "[0-9a-f]+"\)/);
  assert.equal(storedRun(dbs.weights, 'w').status, 'failed');
  assert.match(rewritten.err, /\nerror: run "d" failed: its inputs changed while it ran \(dataset zh: "[0-9a-f]+" vs "[0-9a-f]+"\)/);
  assert.equal(storedRun(dbs.data, 'd').status, 'failed');
  assert.match(deleted.err, /x\.sqlite: the results database was deleted while the run wrote to it; the answers written since it was opened are lost/);
  // A failed run is not resumed over inputs that changed.
  const resumed = await cli('run', '--resume', 'w', '--db', dbs.weights);
  assert.equal(resumed.code, 2);
  assert.match(resumed.err, /cannot resume "w": .*checkpoint weights/);
});

test('a subject label holding a lone surrogate is stored so that a resume finds it, instead of re-inserting it', async () => {
  const data = sampleCopy();
  const file = join(data, 'en', 'P19.jsonl');
  const lines = readFileSync(file, 'utf8').split('\n');
  lines[0] = lines[0].replace('"sub_label":"Ryō Kase"', '"sub_label":"Ryō Kase \\ud800"');
  writeFileSync(file, lines.join('\n'));
  const db = join(tempDir(), 'surrogate.sqlite');
  const first = await cli(...runArgs(db, ck, data), '--languages', 'en', '--relations', 'P19', '--limit', '2', '--name', 's');
  assert.equal(first.code, 0, first.err);
  assert.ok(storedRun(db, 's').rows.some((r) => r.subject === 'Ryō Kase \uD800'));
  const raw = new Database(db);
  raw.exec(`UPDATE runs SET status = 'interrupted'`);
  raw.close();
  const resumed = await cli('run', '--resume', 's', '--db', db);
  assert.equal(resumed.code, 0, resumed.err);
  assert.equal(storedRun(db, 's').status, 'complete');
  assert.equal(storedRun(db, 's').rows.length, 2);
});

test('the Slurm task script starts the run again when a first attempt failed before the run was stored', async () => {
  const { spawnSync } = await import('node:child_process');
  const broken = join(tempDir(), 'broken');
  cpSync(ck, broken, { recursive: true });
  writeFileSync(join(broken, 'model.onnx'), 'not an onnx graph');
  const out = join(tempDir(), 'slurm');
  const task = (model: string) =>
    spawnSync('bash', ['examples/slurm/evaluate.sbatch'], {
      cwd: join(import.meta.dirname, '..'),
      env: {
        ...process.env,
        MODEL: model,
        DATA: SAMPLE_DATA,
        RUN: 'requeued',
        OUT: out,
        SLURM_ARRAY_TASK_ID: '0',
        SLURM_ARRAY_TASK_COUNT: '1',
        RUN_ARGS: '--languages en --limit 1 --styles word',
      },
      encoding: 'utf8',
    });
  const failed = task(broken);
  assert.notEqual(failed.status, 0);
  assert.match(failed.stderr, /onnxruntime cannot load the graph/);
  const requeued = task(ck);
  assert.equal(requeued.status, 0, requeued.stderr);
  assert.match(requeued.stdout, /run "requeued" complete/);
});
