import { hostname } from 'node:os';
import type { RunRecord } from '../store/db.js';

/** How often a running run says it is alive, and how long a holder on another host may stay silent. */
export const HEARTBEAT_MS = 15_000;
export const STALE_MS = 120_000;

/** Runs this process holds, by database file and run id: its own pid alone does not prove it holds one. */
const held = new Set<string>();

export function ownLease(): { pid: number; host: string } {
  return { pid: process.pid, host: hostname() };
}

export function hold(file: string, runId: number, on: boolean): void {
  if (on) held.add(`${file}#${runId}`);
  else held.delete(`${file}#${runId}`);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Who still holds a `running` run, or null when nobody does: on this host the holder's pid decides (a killed or
 * crashed run is free at once); on another host, a heartbeat older than STALE_MS. Runs stored without a lease
 * (older harness) are free, as they were before.
 */
export function liveHolder(run: RunRecord, file: string, now = Date.now()): string | null {
  if (run.status !== 'running' || !run.lease_pid || !run.lease_host) return null;
  const beat = run.heartbeat_at ? Date.parse(run.heartbeat_at) : 0;
  const who = `pid ${run.lease_pid} on ${run.lease_host}, last heartbeat ${run.heartbeat_at ?? 'never'}`;
  if (run.lease_host === hostname()) {
    if (run.lease_pid === process.pid) return held.has(`${file}#${run.id}`) ? who : null;
    return pidAlive(run.lease_pid) ? who : null;
  }
  return now - beat < STALE_MS ? who : null;
}

/** A run's status as every listing words it: a `running` run whose holder is gone says so (--resume takes it). */
export function statusText(run: RunRecord, file: string): string {
  return run.status === 'running' && run.lease_pid && !liveHolder(run, file) ? 'running (holder gone)' : run.status;
}
