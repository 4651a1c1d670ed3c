import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, SAMPLE_DATA, tempDir } from './support/cli.js';
import { tinyCheckpoint } from './support/fixtures.js';
import { mlamaProcess, whenStored } from './support/spawn.js';
import { assertSameRows, storedRun } from './support/rows.js';

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
