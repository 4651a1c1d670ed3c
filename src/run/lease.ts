import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { RunRecord } from '../store/db.js';

/** How often a running run says it is alive, and how long a holder on another host may stay silent. */
export const HEARTBEAT_MS = 15_000;
export const STALE_MS = 120_000;

/** Runs this process holds, by database file and run id: its own pid alone does not prove it holds one. */
const held = new Set<string>();

export function ownLease(): { pid: number; host: string; start: string | null } {
  return { pid: process.pid, host: hostname(), start: processStart(process.pid) };
}

/**
 * When a process started, as the boot's id and the start time in clock ticks since boot (Linux /proc), or null
 * where that cannot be read: a pid alive now but started at another time is not the process that took the lease.
 */
export function processStart(pid: number): string | null {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces; starttime is field 22.
    const ticks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    return ticks ? `${boot}/${ticks}` : null;
  } catch {
    return null;
  }
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
 * Who still holds a `running` run, or null when nobody does: on this host the holder's pid and its start time
 * decide (a killed or crashed run is free at once, also when its pid now belongs to another process); on another host, a heartbeat older than STALE_MS. Runs stored without a lease
 * (older harness) are free, as they were before.
 */
export function liveHolder(run: RunRecord, file: string, now = Date.now()): string | null {
  if (run.status !== 'running' || !run.lease_pid || !run.lease_host) return null;
  const beat = run.heartbeat_at ? Date.parse(run.heartbeat_at) : 0;
  const who = `pid ${run.lease_pid} on ${run.lease_host}, last heartbeat ${run.heartbeat_at ?? 'never'}`;
  if (run.lease_host === hostname()) {
    if (run.lease_pid === process.pid) return held.has(`${file}#${run.id}`) ? who : null;
    if (!pidAlive(run.lease_pid)) return null;
    // The pid was reused by another process (after a reboot, or once pids wrapped): the holder is gone.
    const start = run.lease_start ? processStart(run.lease_pid) : null;
    return start !== null && start !== run.lease_start ? null : who;
  }
  return now - beat < STALE_MS ? who : null;
}

/** A run's status as every listing words it: a `running` run whose holder is gone says so (--resume takes it). */
export function statusText(run: RunRecord, file: string): string {
  return run.status === 'running' && run.lease_pid && !liveHolder(run, file) ? 'running (holder gone)' : run.status;
}
