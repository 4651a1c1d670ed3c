import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { acquireRun, CompletedMeanwhile, openStore, requireRun, storedCount } from '../src/store/db.js';
import { processStart } from '../src/run/lease.js';
import { cli, SAMPLE_DATA, tempDir } from './support/cli.js';
import { tinyCheckpoint } from './support/fixtures.js';
import { answerRow } from './support/answer.js';
import { mlamaProcess } from './support/spawn.js';
import { answers, shardFile } from './support/shards.js';
import { storedRun } from './support/rows.js';

// Issue 30, items 1, 3 and 13: processes racing over one results file, and what a merged run is called.

const N = 30000;
/** An answer whose key sorts after every numbered one: in a shard's last place when read in key order. */
const last = answerRow({ relation: 'P999', subject: 'last' });

/** Shards 0/2 and 1/2 of one run; `duplicate` repeats shard 0's last answer at the end of shard 1. */
function shards(dir: string, duplicate = false, o: { name?: string; label?: string | null }[] = [{}, {}]): [string, string] {
  return [
    shardFile(join(dir, 'a.sqlite'), '0/2', [...answers(N), last], o[0]),
    shardFile(join(dir, 'b.sqlite'), '1/2', [...answers(N, N), ...(duplicate ? [last] : [])], o[1]),
  ];
}

test('a merge refused on its last answer never creates or removes the output file', async () => {
  const dir = tempDir('mlama-merge-late-');
  const inputs = shards(dir, true);
  const out = join(dir, 'merged.sqlite');
  let seen = false;
  const poll = setInterval(() => (seen ||= existsSync(out)), 2);
  const r = await mlamaProcess(['merge', out, ...inputs]);
  clearInterval(poll);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /^error: merge: the answer \["word","en","P999",.*"last"\] is in both .*a\.sqlite and .*b\.sqlite\n$/);
  assert.equal(seen, false, 'the output file existed while the merge ran: a parallel merge could have opened it');
  // The inputs' own -wal and -shm (SQLite's, from reading them) aside, the folder holds what it held.
  assert.deepEqual(
    readdirSync(dir).filter((f) => !/^[ab]\.sqlite(-wal|-shm)?$/.test(f)),
    [],
  );
});

test('a merge refused late while a second merge writes the same new output leaves the second its database', async () => {
  for (let round = 0; round < 2; round++) {
    const dir = tempDir('mlama-merge-race-');
    const bad = shards(dir, true);
    const good = [join(dir, 'a.sqlite'), shardFile(join(dir, 'c.sqlite'), '1/2', answers(N, N))];
    const out = join(dir, 'merged.sqlite');
    // The refused merge starts first, so it would take the write lock first and fail while the other waits.
    const refused = mlamaProcess(['merge', out, ...bad, '--name', 'refused']);
    await new Promise((r) => setTimeout(r, 300));
    const [a, b] = await Promise.all([refused, mlamaProcess(['merge', out, ...good])]);
    assert.equal(a.code, 2, a.err);
    assert.match(a.err, /is in both/);
    assert.equal(b.code, 0, b.err);
    assert.match(b.out, new RegExp(`into run "sharded" of .*merged\\.sqlite: ${2 * N + 1} answers, complete`));
    assert.ok(existsSync(out), `round ${round}: the merged database is gone though its merge said complete`);
    const merged = storedRun(out, 'sharded');
    assert.equal(merged.status, 'complete');
    assert.equal(merged.rows.length, 2 * N + 1);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.startsWith('.')),
      [],
      'no private merge file left',
    );
  }
});

test('merge names the merged run the same whichever order the shards are listed, and refuses shards named or labelled differently', async () => {
  const dir = tempDir('mlama-merge-names-');
  const [a, b] = shards(dir, false, [{ name: 'alpha' }, { name: 'beta' }]);
  const refused = await cli('merge', join(dir, 'x.sqlite'), b, a);
  assert.equal(refused.code, 2);
  assert.match(refused.err, /^error: merge: the shard runs have different names \("alpha" in 0\/2; "beta" in 1\/2\); give the merged run's --name\n$/);
  assert.equal(existsSync(join(dir, 'x.sqlite')), false);
  const named = await cli('merge', join(dir, 'x.sqlite'), b, a, '--name', 'both');
  assert.equal(named.code, 0, named.err);
  assert.match(named.out, /into run "both"/);

  const dir2 = tempDir('mlama-merge-labels-');
  const [c, d] = shards(dir2, false, [{ label: 'one' }, { label: null }]);
  const labels = await cli('merge', join(dir2, 'y.sqlite'), c, d);
  assert.equal(labels.code, 2);
  assert.match(labels.err, /different labels \("one" in 0\/2; null in 1\/2\); give the merged run's --label/);
  const labelled = await cli('merge', join(dir2, 'y.sqlite'), d, c, '--label', 'merged');
  assert.equal(labelled.code, 0, labelled.err);
  const s = openStore(join(dir2, 'y.sqlite'), { readonly: true });
  const run = requireRun(s, 'sharded');
  s.db.close();
  assert.equal(run.label, 'merged');
  assert.deepEqual(run.options.merged_from, ['0/2', '1/2']);
});

test('a resume that finds its run completed or grown by another process meanwhile leaves it as it is', () => {
  const file = join(tempDir('mlama-acquire-'), 'r.sqlite');
  shardFile(file, '0/1', answers(10));
  const lease = { pid: process.pid, host: 'here' };
  const other = new Database(file);
  const s = openStore(file);
  try {
    const id = requireRun(s, 'sharded').id;
    // The resume counted 10 answers, then another process completed the run.
    assert.throws(
      () => acquireRun(s, id, lease, () => {}, undefined, 10),
      (e) => e instanceof CompletedMeanwhile && /run "sharded" was completed by another process meanwhile; nothing to do/.test(e.message),
    );
    assert.equal(requireRun(s, 'sharded').status, 'complete');
    // Interrupted at 10 answers; another resume stored 5 more before this one took the lease.
    other.exec(`UPDATE runs SET status = 'interrupted', planned = 20`);
    other.prepare('DELETE FROM results WHERE rowid IN (SELECT rowid FROM results ORDER BY rowid DESC LIMIT 5)').run();
    const counted = storedCount(s, id);
    other.exec(`UPDATE runs SET status = 'running', lease_pid = 1, lease_host = 'gone.example', heartbeat_at = '2000-01-01T00:00:00Z'`);
    other.exec(
      `INSERT INTO results SELECT run_id, style, language, relation, template, subject || ' again', golds, lineids, top, gold_rank, gold_score, candidates, covered, shard, sub_uri, gold_uris, tie, template_main FROM results LIMIT 5`,
    );
    assert.throws(
      () => acquireRun(s, id, lease, () => {}, undefined, counted),
      /cannot resume "sharded": another process stored answers in it meanwhile \(5 when this resume started, 10 now; running\); it was left as it is/,
    );
    const after = requireRun(s, 'sharded');
    assert.equal(after.status, 'running');
    assert.equal(after.lease_host, 'gone.example');
    // With the count it planned from, the same resume takes the run over.
    assert.equal(acquireRun(s, id, lease, () => {}, undefined, 10).lease_pid, process.pid);
  } finally {
    s.db.close();
    other.close();
  }
});

test('a lease whose pid now belongs to another process does not hold the run (issue 30 item 14)', async () => {
  const db = join(tempDir('mlama-pid-'), 'pid.sqlite');
  const ck = tinyCheckpoint(1, false, SAMPLE_DATA);
  const first = await cli('run', '--model', ck, '--data', SAMPLE_DATA, '--styles', 'word', '--languages', 'en', '--limit', '1', '--db', db, '--name', 'p');
  assert.equal(first.code, 0, first.err);
  const stranger = spawn('sleep', ['120']);
  const lease = (start: string | null) => {
    const d = new Database(db);
    d.prepare(`UPDATE runs SET status = 'running', lease_pid = ?, lease_host = ?, lease_start = ?, heartbeat_at = ?`).run(
      stranger.pid,
      hostname(),
      start,
      new Date().toISOString(),
    );
    d.close();
  };
  try {
    // Held by the live process that took it: refused.
    lease(processStart(stranger.pid!));
    const refused = await cli('run', '--resume', 'p', '--db', db);
    assert.equal(refused.code, 2);
    assert.match(refused.err, new RegExp(`cannot resume "p": it is still running \\(pid ${stranger.pid} on `));
    // Taken by an earlier process under the same pid (before a reboot, or before pids wrapped): the holder is gone.
    lease('an-earlier-boot/12345');
    assert.match((await cli('runs', '--db', db)).out, /running \(holder gone\)/);
    const taken = await cli('run', '--resume', 'p', '--db', db);
    assert.equal(taken.code, 0, taken.err);
    assert.equal(storedRun(db, 'p').status, 'complete');
  } finally {
    stranger.kill();
  }
});

test('two resumes started 0.2 s apart: the run ends complete, never failed, and the later one says so in one line', async () => {
  const ck = tinyCheckpoint(1, false, SAMPLE_DATA);
  const db = join(tempDir('mlama-two-resumes-'), 'r.sqlite');
  const first = await cli('run', '--model', ck, '--data', SAMPLE_DATA, '--styles', 'word', '--languages', 'en', '--threads', '1', '--db', db, '--name', 'r');
  assert.equal(first.code, 0, first.err);
  const total = storedRun(db, 'r').rows.length;
  for (let round = 0; round < 3; round++) {
    // A few answers short, so the first resume finishes while the second still loads its inputs.
    const d = new Database(db);
    d.exec(`UPDATE runs SET status = 'interrupted'; DELETE FROM results WHERE rowid IN (SELECT rowid FROM results ORDER BY rowid DESC LIMIT 8)`);
    d.close();
    const a = mlamaProcess(['run', '--resume', 'r', '--db', db]);
    await new Promise((r) => setTimeout(r, 200));
    const both = [await mlamaProcess(['run', '--resume', 'r', '--db', db]), await a];
    // Either may take the lease first (the later one, on a loaded machine); the other does nothing, in one line.
    assert.ok(
      both.some((x) => x.code === 0 && /run "r" complete: \d+\/\d+ answers stored/.test(x.out)),
      both.map((x) => x.err).join('\n'),
    );
    for (const x of both) {
      const errors = x.err.split('\n').filter((l) => l && !/^[a-z]{2,3}: \d+/.test(l));
      const lost = /already complete|completed by another process meanwhile; nothing to do/.test(x.out);
      const refused = x.code === 2 && errors.length === 1 && /^error: cannot resume "r": (it is still running|another process stored answers)/.test(errors[0]);
      assert.ok(x.code === 0 || refused, `round ${round}: exit ${x.code}: ${x.out} ${x.err}`);
      if (lost || refused) console.log(`# round ${round}: the other resume exited ${x.code}: ${(lost ? x.out : errors[0]).trim().split('\n').at(-1)}`);
    }
    const after = storedRun(db, 'r');
    assert.equal(after.status, 'complete', `round ${round}`);
    assert.equal(after.rows.length, total);
  }
});
