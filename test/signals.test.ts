import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, SAMPLE_DATA, tempDir } from './support/cli.js';
import { tinyCheckpoint } from './support/fixtures.js';
import { mlamaProcess, whenStored } from './support/spawn.js';
import { assertSameRows, storedRun } from './support/rows.js';
import { answers, shardFile } from './support/shards.js';

const ck = tinyCheckpoint(1, false, SAMPLE_DATA);
const dir = tempDir('mlama-signals-');
const runArgs = (db: string) => ['run', '--model', ck, '--data', SAMPLE_DATA, '--styles', 'word,entity', '--threads', '1', '--batch-size', '8', '--db', db];
const TOTAL = 2392;

/** Sends `sig` (twice, as a scheduler signalling every process of a job may) once the run has stored `rows` answers. */
function signalAt(db: string, rows: number, sig: NodeJS.Signals) {
  return (kill: (s: NodeJS.Signals) => void) =>
    whenStored(
      db,
      (_runs, n) => n >= rows,
      () => {
        kill(sig);
        kill(sig);
      },
    );
}

const reference = join(dir, 'reference.sqlite');

for (const sig of ['SIGTERM', 'SIGHUP'] as const) {
  test(`${sig} stops a run after its current batch, marks it interrupted, and --resume finishes it`, async () => {
    if (!existsSync(reference)) assert.equal((await mlamaProcess([...runArgs(reference), '--name', 'r'])).code, 0);
    const db = join(dir, `${sig}.sqlite`);
    const stopped = await mlamaProcess([...runArgs(db), '--name', 'r'], {}, signalAt(db, 600, sig));
    assert.equal(stopped.signal, null, `killed by ${stopped.signal} instead of stopping cleanly`);
    assert.equal(stopped.code, 130, stopped.err);
    assert.match(stopped.err, new RegExp(`${sig}: stopping after the current batch`));
    assert.match(stopped.err, /interrupted: resume with --resume r/);
    const partial = storedRun(db, 'r');
    assert.equal(partial.status, 'interrupted');
    assert.ok(partial.rows.length >= 600 && partial.rows.length < TOTAL, `${partial.rows.length} answers`);
    const resumed = await cli(...runArgs(db), '--resume', 'r');
    assert.equal(resumed.code, 0, resumed.err);
    const got = storedRun(db, 'r');
    assert.equal(got.status, 'complete');
    assert.equal(got.rows.length, TOTAL);
    assertSameRows(got.rows, storedRun(reference, 'r').rows);
    console.log(`# ${sig} after ${partial.rows.length} answers: interrupted, resumed to ${got.rows.length}, rows equal the uninterrupted run`);
  });
}

/** Sends `sig` once a file whose name matches `name` appears in `dir`: the command is then in the middle of writing. */
function whenFile(dir: string, name: RegExp, sig: NodeJS.Signals) {
  return (kill: (s: NodeJS.Signals) => void) => {
    const timer = setInterval(() => {
      if (!readdirSync(dir).some((f) => name.test(f))) return;
      clearInterval(timer);
      kill(sig);
    }, 2);
    // A command that ends before the file appears must not be kept waiting on this timer.
    timer.unref();
  };
}

// Issue 30 item 12: a signal in the middle of an export or a merge leaves no debris, and what was there stays.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  test(`${sig} during answers --out drops the hidden part file and leaves the older file as it was`, async () => {
    const db = shardFile(join(tempDir(), 'big.sqlite'), '0/1', answers(60000));
    const dir = tempDir('mlama-answers-out-');
    const out = join(dir, 'answers.jsonl');
    writeFileSync(out, 'an older export\n');
    const r = await mlamaProcess(['answers', '--db', db, '--run', 'sharded', '--out', out], {}, whenFile(dir, /\.part$/, sig));
    assert.equal(r.signal, null, `killed by ${r.signal} instead of stopping cleanly`);
    assert.equal(r.code, 130, r.err);
    assert.match(r.err, new RegExp(`^error: answers interrupted by ${sig}: .*answers\\.jsonl was not written\n$`));
    assert.deepEqual(readdirSync(dir), ['answers.jsonl']);
    assert.equal(readFileSync(out, 'utf8'), 'an older export\n');
  });
}

test('SIGTERM during a merge into a new database leaves neither a database nor its -wal', async () => {
  const dir = tempDir('mlama-merge-signal-');
  const inputs = [shardFile(join(dir, 'a.sqlite'), '0/2', answers(30000)), shardFile(join(dir, 'b.sqlite'), '1/2', answers(30000, 30000))];
  const r = await mlamaProcess(['merge', join(dir, 'merged.sqlite'), ...inputs], {}, whenFile(dir, /\.merging$|^merged\.sqlite$/, 'SIGTERM'));
  assert.equal(r.signal, null, `killed by ${r.signal} instead of stopping cleanly`);
  assert.equal(r.code, 130, r.err);
  assert.match(r.err, /^error: merge interrupted by SIGTERM: nothing was written to .*merged\.sqlite\n$/);
  // The inputs' own -wal and -shm (SQLite's, from reading them) aside, the folder holds what it held.
  assert.deepEqual(
    readdirSync(dir).filter((f) => !/^[ab]\.sqlite(-wal|-shm)?$/.test(f)),
    [],
  );
});
