import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { tempDir } from './cli.js';

/** Why a real cluster cannot start here, or null when it can (Debian's slurm-wlm and munge, as root). */
export function slurmUnavailable(): string | null {
  const missing = ['munged', 'slurmctld', 'slurmd', 'sbatch', 'scontrol'].filter((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0);
  if (missing.length) return `${missing.join(', ')} not installed (apt-get install slurm-wlm munge)`;
  if (process.getuid?.() !== 0) return 'slurmd must run as root to launch jobs';
  return null;
}

export interface Cluster {
  dir: string;
  /** The environment that points Slurm's commands at this cluster only (SLURM_CONF). */
  env: NodeJS.ProcessEnv;
  version: string;
  scontrol(...args: string[]): string;
  /** Every job's (array task's) fields from `scontrol show job`, one record per job. */
  jobs(id: string): Record<string, string>[];
  stop(): void;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pidOf(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL if it is still there after a few seconds; synchronous so it can run on any exit path. */
function stopPid(pid: number | null): void {
  if (!pid || !alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && alive(pid); i++) spawnSync('sleep', ['0.1']);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

/**
 * A single-node Slurm cluster of its own: munged on its own socket and key, slurmctld and slurmd on free loopback
 * ports, all state, spool, pid and log files in a temporary folder, nothing under /etc. Daemons run at nice 10
 * and use little CPU; the jobs inherit the niceness. `stop()` cancels the jobs and stops every daemon.
 */
export async function startCluster(): Promise<Cluster> {
  const dir = tempDir('mlama-slurm-');
  chmodSync(dir, 0o755);
  for (const d of ['munge', 'state', 'spool', 'log']) mkdirSync(join(dir, d), { mode: 0o700 });
  const key = join(dir, 'munge', 'munge.key');
  writeFileSync(key, randomBytes(1024), { mode: 0o400 });
  const sock = join(dir, 'munge', 'munge.socket');
  const conf = join(dir, 'slurm.conf');
  const env: NodeJS.ProcessEnv = { ...process.env, SLURM_CONF: conf };
  delete env.NODE_TEST_CONTEXT;
  const host = hostname().split('.')[0];
  const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
  const pids = { munged: join(dir, 'munge', 'munged.pid'), slurmctld: join(dir, 'slurmctld.pid'), slurmd: join(dir, 'slurmd.pid') };
  writeFileSync(
    conf,
    [
      'ClusterName=mlamatest',
      `SlurmctldHost=${host}(127.0.0.1)`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${slurmdPort}`,
      'SlurmUser=root',
      'SlurmdUser=root',
      'AuthType=auth/munge',
      'CredType=cred/munge',
      // A requeued job may start again once its old credential expired: 10 s instead of the default 120 s.
      `AuthInfo=socket=${sock},cred_expire=10`,
      `StateSaveLocation=${join(dir, 'state')}`,
      `SlurmdSpoolDir=${join(dir, 'spool')}`,
      `SlurmctldPidFile=${pids.slurmctld}`,
      `SlurmdPidFile=${pids.slurmd}`,
      `SlurmctldLogFile=${join(dir, 'log', 'slurmctld.log')}`,
      `SlurmdLogFile=${join(dir, 'log', 'slurmd.log')}`,
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'MpiDefault=none',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'SchedulerParameters=sched_interval=2',
      'ReturnToService=2',
      'JobRequeue=1',
      // The grace time between SIGTERM and SIGKILL on requeue, preemption or cancel.
      'KillWait=60',
      `NodeName=${host} NodeAddr=127.0.0.1 CPUs=2 RealMemory=16000 State=UNKNOWN`,
      `PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO`,
      '',
    ].join('\n'),
  );
  const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const scontrol = (...args: string[]) => execFileSync('scontrol', args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const cluster: Cluster = {
    dir,
    env,
    version: '',
    scontrol,
    jobs(id) {
      return scontrol('show', 'job', '--oneliner', id)
        .split('\n')
        .filter((l) => l.trim())
        .map((l) =>
          Object.fromEntries(
            l
              .trim()
              .split(/\s+/)
              .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
          ),
        );
    },
    stop() {
      // Jobs first (their processes belong to slurmstepd, which outlives slurmd), then the daemons.
      if (alive(pidOf(pids.slurmctld) ?? 0)) {
        spawnSync('scancel', ['--user', 'root'], { env, stdio: 'ignore' });
        for (let i = 0; i < 300; i++) {
          const q = spawnSync('squeue', ['-h', '-t', 'all', '-o', '%T'], { env, encoding: 'utf8' });
          if (q.status !== 0 || !/RUNNING|COMPLETING|SUSPENDED|STOPPED|SIGNALING/.test(q.stdout)) break;
          spawnSync('sleep', ['0.2']);
        }
      }
      stopPid(pidOf(pids.slurmd));
      stopPid(pidOf(pids.slurmctld));
      stopPid(pidOf(pids.munged));
    },
  };
  try {
    run('munged', [
      '--force',
      `--socket=${sock}`,
      `--key-file=${key}`,
      `--pid-file=${pids.munged}`,
      `--log-file=${join(dir, 'munge', 'munged.log')}`,
      `--seed-file=${join(dir, 'munge', 'munged.seed')}`,
      '--num-threads=1',
    ]);
    run('slurmctld', ['-i']);
    run('slurmd', []);
    for (let i = 0; ; i++) {
      const state = spawnSync('sinfo', ['-h', '-o', '%T'], { env, encoding: 'utf8' }).stdout.trim();
      if (state === 'idle') break;
      if (i === 300) throw new Error(`the Slurm node did not become idle (sinfo: "${state}"); logs in ${join(dir, 'log')}`);
      await sleep(200);
    }
    // The running controller's version, not the installed binary's.
    cluster.version = /SLURM_VERSION\s*=\s*(\S+)/.exec(scontrol('show', 'config'))![1];
    return cluster;
  } catch (e) {
    cluster.stop();
    throw e;
  }
}

/**
 * Waits until every job of `ids` has ended; fails at once on a job that can never start. `onPoll` runs every 50 ms
 * (cheap checks, such as a row count); the scheduler is asked every 500 ms.
 */
export async function waitForJobs(c: Cluster, ids: string[], onPoll?: () => void): Promise<Record<string, string>[]> {
  const never = /DependencyNeverSatisfied|JobHeldAdmin|JobHeldUser|launch_failed|BadConstraints|PartitionConfig/;
  for (let tick = 0; ; tick++) {
    onPoll?.();
    if (tick % 10 === 0) {
      const jobs = ids.flatMap((id) => c.jobs(id));
      const stuck = jobs.find((j) => j.JobState === 'PENDING' && never.test(j.Reason));
      if (stuck) throw new Error(`job ${stuck.JobId} can never run: ${stuck.Reason}`);
      if (jobs.every((j) => !/PENDING|RUNNING|CONFIGURING|COMPLETING|REQUEUED|RESIZING|SUSPENDED|STOPPED/.test(j.JobState))) return jobs;
    }
    await sleep(50);
  }
}

export const logFile = (dir: string, name: string) => {
  const f = join(dir, name);
  return existsSync(f) ? readFileSync(f, 'utf8') : '';
};
