import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { HARNESS_VERSION } from '../src/run/evaluate.js';
import { cli, SAMPLE_DATA, tempDir } from './support/cli.js';
import { tinyCheckpoint } from './support/fixtures.js';
import { answers, shardFile } from './support/shards.js';

// A release may build the same queries otherwise: one run's answers never mix two releases.

const storedBy = (db: string, version: string, status?: string) => {
  const raw = new Database(db);
  try {
    raw.prepare(`UPDATE runs SET harness_version = ?${status ? ', status = ?' : ''}`).run(...(status ? [version, status] : [version]));
  } finally {
    raw.close();
  }
};

test('resume refuses a stopped run an earlier release stored, in one line; a complete one has nothing to resume', async () => {
  const ck = tinyCheckpoint(1, false, SAMPLE_DATA);
  const db = join(tempDir(), 'old.sqlite');
  const run = (...args: string[]) => cli('run', '--data', SAMPLE_DATA, '--model', ck, '--threads', '1', '--db', db, ...args);
  assert.equal((await run('--languages', 'en', '--limit', '2', '--name', 'old')).code, 0);
  storedBy(db, '0.1.0', 'interrupted');
  const r = await run('--resume', 'old');
  assert.equal(r.code, 2, r.out + r.err);
  assert.equal(
    r.err,
    `error: cannot resume "old": it was stored by mlama-harness 0.1.0 and this is ${HARNESS_VERSION}, which may build its queries otherwise; start a new run (its answers stay stored)\n`,
  );
  storedBy(db, '0.1.0', 'complete');
  assert.equal((await run('--resume', 'old')).code, 0);
});

test('merge refuses shards of one run stored by two releases, naming both', async () => {
  const dir = tempDir();
  const a = shardFile(join(dir, 'a.sqlite'), '0/2', answers(3));
  const b = shardFile(join(dir, 'b.sqlite'), '1/2', answers(3, 3));
  storedBy(b, '0.1.0');
  const r = await cli('merge', join(dir, 'out.sqlite'), a, b);
  assert.equal(r.code, 2, r.out + r.err);
  assert.match(r.err, /does not match .*a\.sqlite \(mlama-harness test vs 0\.1\.0\)/);
  assert.equal(r.err.trim().split('\n').length, 1);
});
