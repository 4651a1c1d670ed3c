import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, SAMPLE_DATA, tempDir } from './support/cli.js';
import { tinyCheckpoint } from './support/fixtures.js';
import { storedRun } from './support/rows.js';
import { BIN } from './support/spawn.js';

// `mlama run ... 2>&1 | head` closes the run's output while it scores: the run stops as on a closed terminal.

const ck = tinyCheckpoint(1, false, SAMPLE_DATA);

/** Runs the built CLI and closes its stdout and stderr once `line` has appeared on stderr; the exit code. */
function closeOutputAfter(args: string[], line: RegExp): Promise<number | null> {
  return closedRun(args, line).then((r) => r.code);
}

/** As closeOutputAfter, or with stdout (and stderr: 'both') closed from the start; the exit code and stderr read. */
function closedRun(args: string[], line: RegExp | 'stdout' | 'both'): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    if (line instanceof RegExp) child.stdout.resume();
    else child.stdout.destroy();
    if (line === 'both') child.stderr.destroy();
    child.stderr.on('data', (d) => {
      err += d;
      if (line instanceof RegExp && line.test(err)) {
        child.stdout.destroy();
        child.stderr.destroy();
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, err }));
  });
}

test('a run whose output pipe closes stops as interrupted with exit 130, not exit 0 half done, and --resume finishes it', async () => {
  const db = join(tempDir('mlama-pipe-'), 'pipe.sqlite');
  const args = ['run', '--model', ck, '--data', SAMPLE_DATA, '--languages', 'en,ja', '--db', db, '--name', 'p'];
  const code = await closeOutputAfter(args, /^en: \d+ answers to score$/m);
  assert.equal(code, 130);
  const stopped = storedRun(db, 'p');
  assert.equal(stopped.status, 'interrupted');
  assert.ok(stopped.rows.length < stopped.planned, `${stopped.rows.length} of ${stopped.planned}`);
  const resumed = await cli('run', '--resume', 'p', '--db', db);
  assert.equal(resumed.code, 0, resumed.err);
  const done = storedRun(db, 'p');
  assert.equal(done.status, 'complete');
  assert.equal(done.rows.length, done.planned);
});

test('a --budget run whose output pipe is closed during its pilot exits 130 and stores no run, not an empty interrupted one', async () => {
  const db = join(tempDir('mlama-pipe-'), 'pipe.sqlite');
  const args = ['run', '--model', ck, '--data', SAMPLE_DATA, '--languages', 'en', '--styles', 'word', '--db', db, '--name', 'b', '--budget', '0.01'];
  const r = await closedRun(args, 'stdout');
  assert.equal(r.code, 130, r.err);
  assert.match(r.err, /stopped after the --budget pilot, before the run started: nothing stored/);
  assert.equal(existsSync(db), false, 'a run was stored');
});

test('a command whose error line meets a closed pipe keeps its exit status (2), not 0', async () => {
  // `mlama ... 2>&1 | head -1` with the reader gone before the error line is written.
  const r = await closedRun(['runs', '--db', join(tempDir('mlama-pipe-'), 'none.sqlite')], 'both');
  assert.equal(r.code, 2);
});
