// tier: full (needs Slurm)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { cli, SAMPLE_DATA, sampleCopy } from './support/cli.js';
import { tinyCheckpoint } from './support/fixtures.js';
import { assertSameRows, storedRun } from './support/rows.js';
import { BIN } from './support/spawn.js';
import { logFile, slurmUnavailable, startCluster, waitForJobs, type Cluster } from './support/slurm.js';

// A real slurmctld and slurmd run the example scripts; nothing here sets Slurm's variables itself. Where the
// packages are missing the test is skipped, and `make test-slurm` (MLAMA_REQUIRE_SLURM=1) fails instead.
const unavailable = slurmUnavailable();
if (unavailable && process.env.MLAMA_REQUIRE_SLURM === '1') throw new Error(`a real Slurm cluster is required: ${unavailable}`);

const ROOT = join(import.meta.dirname, '..');
const TASKS = 3;
// Small: two languages of the bundled sample, both styles; small batches so a requeue lands mid-run.
const RUN_ARGS = '--languages en,ja --styles word,entity --batch-size 8';
const TOTAL = 1196;

let cluster: Cluster | undefined;
// The daemons detach from this process: stop them on every way out (stop() is synchronous and idempotent).
after(() => cluster?.stop());
process.once('exit', () => cluster?.stop());
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    cluster?.stop();
    process.exit(130);
  });
}

const rowCount = (db: string) => {
  if (!existsSync(db)) return 0;
  try {
    const d = new Database(db, { readonly: true, timeout: 1000 });
    try {
      return (d.prepare('SELECT COUNT(*) AS n FROM results').get() as { n: number }).n;
    } finally {
      d.close();
    }
  } catch {
    return 0; // not created yet
  }
};

test('examples/slurm/submit.sh on a real Slurm cluster: array, requeue of a running task, merge equal to an unsharded run', {
  skip: unavailable ?? false,
}, async () => {
  const ck = tinyCheckpoint(1, false, SAMPLE_DATA);
  cluster = await startCluster();
  const c = cluster;
  const work = join(c.dir, 'work');
  mkdirSync(work);
  const out = join(work, 'shards');
  const merged = join(work, 'merged.sqlite');
  const env = { ...c.env, MODEL: ck, DATA: SAMPLE_DATA, RUN: 'slurm-run', OUT: out, MERGED: merged, MLAMA: `${process.execPath} ${BIN}`, RUN_ARGS };

  // The unsharded reference, outside the cluster.
  const whole = join(work, 'whole.sqlite');
  const ref = await cli('run', '--model', ck, '--data', SAMPLE_DATA, ...RUN_ARGS.split(' '), '--threads', '1', '--name', 'whole', '--db', whole);
  assert.equal(ref.code, 0, ref.err);

  // One CPU and a little memory per task instead of the example's defaults: the machine has 2 cores.
  const submitted = execFileSync('bash', [join(ROOT, 'examples/slurm/submit.sh'), String(TASKS), '--cpus-per-task=1', '--mem=500M'], {
    cwd: work,
    env,
    encoding: 'utf8',
  });
  const m = /submitted array (\d+) \(3 shards\) and its merge (\d+)/.exec(submitted);
  assert.ok(m, submitted);
  const [array, merge] = [m[1], m[2]];

  // Preemption: requeue task 1 once it has stored some answers and before it is done.
  const victim = join(out, 'shard-1.sqlite');
  let requeuedAt = -1;
  const jobs = await waitForJobs(c, [array, merge], () => {
    if (requeuedAt >= 0) return;
    const n = rowCount(victim);
    if (n < 16) return;
    c.scontrol('requeue', `${array}_1`);
    requeuedAt = n;
  });
  assert.ok(requeuedAt >= 0, 'task 1 was never requeued');
  const tasks = jobs.filter((j) => j.ArrayJobId === array);
  assert.equal(tasks.length, TASKS);
  for (const t of tasks) assert.equal(t.JobState, 'COMPLETED', `task ${t.ArrayTaskId}: ${t.JobState} ${t.Reason} exit ${t.ExitCode}`);
  const mergeJob = jobs.find((j) => j.JobId === merge)!;
  assert.equal(mergeJob.JobState, 'COMPLETED', `merge: ${mergeJob.JobState} ${mergeJob.Reason}`);
  const requeued = tasks.reduce((k, t) => k + Number(t.Restarts), 0);
  assert.equal(requeued, 1);
  assert.equal(tasks.find((t) => t.ArrayTaskId === '1')!.Restarts, '1');

  // Every task's log was written by the job Slurm started, with the job's own id.
  const logs = join(work, 'logs');
  for (const t of tasks) {
    const log = logFile(logs, `mlama-${array}_${t.ArrayTaskId}.out`);
    assert.match(log, new RegExp(`task ${t.ArrayTaskId}/${TASKS} \\(job \\d+, attempt \\d\\)`));
    assert.match(log, new RegExp(`run "slurm-run" complete: \\d+/\\d+ answers stored in .*shard-${t.ArrayTaskId}\\.sqlite`));
  }
  // The requeued task stopped on SIGTERM after its batch (interrupted, not killed), then resumed where it stopped.
  const victimLog = logFile(logs, `mlama-${array}_1.out`);
  assert.match(victimLog, /attempt 1\): --name slurm-run/);
  assert.match(victimLog, /SIGTERM: stopping after the current batch/);
  const stopped = /run "slurm-run" interrupted: (\d+)\/(\d+) answers/.exec(victimLog);
  assert.ok(stopped, victimLog);
  assert.ok(Number(stopped[1]) >= requeuedAt && Number(stopped[1]) < Number(stopped[2]), victimLog);
  assert.match(victimLog, /attempt 2\): --resume slurm-run/);
  // Where it stopped: the second attempt scores exactly what the first left. A language it had begun says
  // "resuming at d/t"; if SIGTERM fell between two languages, the next one starts at 0 ("N answers to score").
  const second = victimLog.slice(victimLog.indexOf('attempt 2): --resume'));
  const owed = [...second.matchAll(/^\w+: (?:resuming at (\d+)\/(\d+)|(\d+) answers to score)/gm)].reduce(
    (n, m) => n + (m[3] !== undefined ? Number(m[3]) : Number(m[2]) - Number(m[1])),
    0,
  );
  assert.equal(owed, Number(stopped[2]) - Number(stopped[1]), victimLog);

  // Nothing scored twice: every shard holds each of its keys once, and the shards add up to the unsharded run.
  const sizes = [0, 1, 2].map((i) => {
    const d = new Database(join(out, `shard-${i}.sqlite`), { readonly: true });
    try {
      const { n, keys } = d
        .prepare("SELECT COUNT(*) AS n, COUNT(DISTINCT style || '|' || language || '|' || relation || '|' || template || '|' || subject) AS keys FROM results")
        .get() as { n: number; keys: number };
      assert.equal(keys, n, `shard ${i}: ${n} rows, ${keys} distinct keys`);
      return n;
    } finally {
      d.close();
    }
  });
  assert.equal(
    sizes.reduce((a, b) => a + b, 0),
    TOTAL,
  );
  assert.match(logFile(logs, `mlama-merge-${merge}.out`), new RegExp(`merged 3 shards .* into run "slurm-run" .*: ${TOTAL} answers, complete`));

  const got = storedRun(merged, 'slurm-run');
  const want = storedRun(whole, 'whole');
  assert.equal(got.status, 'complete');
  assert.equal(got.rows.length, TOTAL);
  assertSameRows(got.rows, want.rows);
  const report = async (db: string, run: string) => JSON.parse((await cli('report', '--db', db, '--run', run, '--format', 'json')).out);
  const [a, b] = [await report(whole, 'whole'), await report(merged, 'slurm-run')];
  assert.deepEqual(b.languages, a.languages);
  assert.deepEqual(b.averages, a.averages);
  assert.ok(existsSync(join(work, 'merged-slurm-run.html')));

  // Bad input: a malformed data line fails each task once with the one-line message (exit 2), and the task is
  // no longer requeueable, so `scontrol requeue` (or a preemption) cannot make it fail again.
  const bad = sampleCopy();
  const lines = readFileSync(join(bad, 'en', 'P19.jsonl'), 'utf8').split('\n');
  lines[1] = '{"sub_uri": "Q1", "obj_uri"';
  writeFileSync(join(bad, 'en', 'P19.jsonl'), lines.join('\n'));
  const badArray = execFileSync(
    'sbatch',
    ['--parsable', '--array=0-1', '--export=ALL', '--cpus-per-task=1', '--mem=500M', join(ROOT, 'examples/slurm/evaluate.sbatch')],
    { cwd: work, env: { ...env, DATA: bad, RUN: 'bad', OUT: join(work, 'bad') }, encoding: 'utf8' },
  ).trim();
  const badTasks = await waitForJobs(c, [badArray]);
  assert.equal(badTasks.length, 2);
  for (const t of badTasks) {
    assert.equal(t.JobState, 'FAILED');
    assert.equal(t.ExitCode, '2:0');
    assert.equal(t.Requeue, '0');
    const requeue = (() => {
      try {
        c.scontrol('requeue', t.JobId);
        return 'accepted';
      } catch (e) {
        return String((e as { stderr?: string }).stderr);
      }
    })();
    assert.match(requeue, /presently disabled/, `task ${t.ArrayTaskId}: requeue ${requeue}`);
  }
  for (const t of await waitForJobs(c, [badArray])) {
    assert.equal(t.JobState, 'FAILED');
    assert.equal(t.Restarts, '0');
    const log = logFile(logs, `mlama-${badArray}_${t.ArrayTaskId}.out`);
    const errors = log.split('\n').filter((l) => l.startsWith('error: '));
    assert.equal(errors.length, 1, log);
    assert.ok(errors[0].startsWith(`error: ${join(bad, 'en', 'P19.jsonl')}:2: `), log);
    assert.doesNotMatch(log, /at .*\.js:\d+/);
  }

  const line = `slurm: ${tasks.length} array tasks ran under slurmctld ${c.version}; requeued ${requeued}; merged equals unsharded: yes`;
  console.log(line);
  if (process.env.MLAMA_SLURM_SUMMARY) appendFileSync(process.env.MLAMA_SLURM_SUMMARY, line + '\n');
});
