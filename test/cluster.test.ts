// tier: full (needs ../shared)
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { before, test } from 'node:test';
import { cli, type CliResult, SAMPLE_DATA, SHARED_DATA, tempDir } from './support/cli.js';
import { tinyCheckpoint } from './support/fixtures.js';
import { mlamaProcess, type Spawned } from './support/spawn.js';
import { assertSameRows, storedRun } from './support/rows.js';

const ck = tinyCheckpoint(1, false, SAMPLE_DATA);
const dir = tempDir('mlama-shards-');
const common = ['--model', ck, '--data', SAMPLE_DATA, '--styles', 'word,entity', '--threads', '1'];
const shardDb = (i: number) => join(dir, `shard-${i}.sqlite`);

// The unsharded run and its 4 shards, each shard its own process; the tests merge them and never write to them.
let whole: CliResult;
let shards: Spawned[];
before(async () => {
  whole = await cli('run', ...common, '--name', 'whole', '--db', join(dir, 'whole.sqlite'));
  // Shard 3 learns its place from Slurm's job-array variables, the others from --shard.
  shards = await Promise.all(
    [0, 1, 2, 3].map((i) =>
      mlamaProcess(
        ['run', ...common, '--name', 'sharded', '--db', shardDb(i), ...(i < 3 ? ['--shard', `${i}/4`] : [])],
        i < 3 ? {} : { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '4' },
      ),
    ),
  );
});

test('4 shards run as 4 processes and merged give exactly the rows and metrics of the unsharded run', async () => {
  assert.equal(whole.code, 0, whole.err);
  shards.forEach((s, i) => {
    assert.equal(s.code, 0, s.err);
    assert.match(s.out, new RegExp(`shard ${i}/4: \\d+ queries`));
  });
  const merged = await cli('merge', join(dir, 'merged.sqlite'), ...[0, 1, 2, 3].map(shardDb));
  assert.equal(merged.code, 0, merged.err);
  assert.match(merged.out, /merged 4 shards .* into run "sharded" .*: 2392 answers, complete/);
  assertSameRows(storedRun(join(dir, 'merged.sqlite'), 'sharded').rows, storedRun(join(dir, 'whole.sqlite'), 'whole').rows);
  const report = async (db: string, run: string) => JSON.parse((await cli('report', '--db', db, '--run', run, '--format', 'json')).out);
  const [a, b] = [await report(join(dir, 'whole.sqlite'), 'whole'), await report(join(dir, 'merged.sqlite'), 'sharded')];
  assert.deepEqual(b.languages, a.languages);
  assert.deepEqual(b.averages, a.averages);
  // The merged run's per-language plan is the shards' plans added up: a report marks no language as partial.
  assert.deepEqual(b.run.options.planned_languages, a.run.options.planned_languages);
  assert.deepEqual(b.partial, []);
  // The shards are not split by count: each holds a different number of answers.
  const sizes = shards.map((s) => Number(/(\d+)\/\d+ answers/.exec(s.out)![1]));
  assert.equal(
    sizes.reduce((x, y) => x + y, 0),
    2392,
  );
});

test('merge refuses a missing shard and a doubled shard, naming them, and writes nothing', async () => {
  const out = join(dir, 'refused.sqlite');
  const missing = await cli('merge', out, shardDb(0), shardDb(1), shardDb(3));
  assert.equal(missing.code, 2);
  assert.match(missing.err, /missing shard 2\/4 \(have 0\/4, 1\/4, 3\/4\)/);
  copyFileSync(shardDb(1), join(dir, 'copy-of-1.sqlite'));
  const doubled = await cli('merge', out, shardDb(0), shardDb(1), join(dir, 'copy-of-1.sqlite'), shardDb(2), shardDb(3));
  assert.equal(doubled.code, 2);
  assert.match(doubled.err, /shard 1\/4 appears 2 times \(.*shard-1\.sqlite, .*copy-of-1\.sqlite\)/);
  const notShard = await cli('merge', out, join(dir, 'whole.sqlite'));
  assert.equal(notShard.code, 2);
  assert.match(notShard.err, /whole\.sqlite: run "whole" is not a shard/);
  assert.equal(existsSync(out), false, 'a refused merge leaves no database behind, not even an empty one');
  // The output named again among the inputs by another path: refused before either is opened for writing.
  const before = readFileSync(shardDb(0));
  const self = await cli('merge', shardDb(0), relative(process.cwd(), shardDb(0)), shardDb(1), shardDb(2), shardDb(3));
  assert.equal(self.code, 2);
  assert.match(self.err, /shard-0\.sqlite: the output database cannot also be an input/);
  assert.deepEqual(readFileSync(shardDb(0)), before);
});

test('merge refuses shards of different options', async () => {
  const odd = join(dir, 'odd.sqlite');
  const r = await mlamaProcess(['run', ...common.map((a) => (a === 'word,entity' ? 'word' : a)), '--name', 'sharded', '--db', odd, '--shard', '2/4']);
  assert.equal(r.code, 0, r.err);
  const m = await cli('merge', join(dir, 'refused2.sqlite'), shardDb(0), shardDb(1), odd, shardDb(3));
  assert.equal(m.code, 2);
  assert.match(m.err, /odd\.sqlite: shard 2\/4 does not match .*styles: \["word","entity"\] vs \["word"\]/);
});

test('16 shards of the shared data are balanced by estimated cost within 1.1', async () => {
  const r = await cli('shards', '--model', tinyCheckpoint(), '--data', SHARED_DATA, '--count', '16');
  assert.equal(r.code, 0, r.err);
  const m = /(\d+) queries over 10 languages, 16 shards: balance \(max\/mean estimated cost\) ([\d.]+)/.exec(r.out);
  assert.ok(m, r.out);
  assert.equal(Number(m[1]), 189730);
  console.log(`# ${r.out.trim().split('\n').at(-1)}`);
  assert.ok(Number(m[2]) < 1.1, `balance ${m[2]}`);
});

test('the Slurm example scripts run as array tasks would, then merge', async () => {
  const { execFileSync } = await import('node:child_process');
  const out = join(dir, 'slurm');
  const env = {
    ...process.env,
    MODEL: ck,
    DATA: SAMPLE_DATA,
    RUN: 'slurm-run',
    OUT: out,
    MERGED: join(out, 'merged.sqlite'),
    SLURM_ARRAY_TASK_COUNT: '2',
    SLURM_CPUS_PER_TASK: '1',
    RUN_ARGS: '--languages en,ja',
  };
  const root = join(import.meta.dirname, '..');
  for (const id of ['0', '1']) execFileSync('bash', ['examples/slurm/evaluate.sbatch'], { cwd: root, env: { ...env, SLURM_ARRAY_TASK_ID: id }, stdio: 'pipe' });
  const merged = execFileSync('bash', ['examples/slurm/merge.sbatch'], { cwd: root, env, encoding: 'utf8' });
  assert.match(merged, /merged 2 shards .* into run "slurm-run" .*: 1196 answers, complete/);
  // A rerun of a finished task (a requeue) resumes and does nothing.
  const again = execFileSync('bash', ['examples/slurm/evaluate.sbatch'], { cwd: root, env: { ...env, SLURM_ARRAY_TASK_ID: '0' }, encoding: 'utf8' });
  assert.match(again, /already complete; nothing to do/);
});
