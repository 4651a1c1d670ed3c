import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { join } from 'node:path';

export const BIN = join(import.meta.dirname, '../../bin/mlama.js');

export interface Spawned {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/** Runs the built CLI as its own process (needs `make build`), as a scheduler would. */
export function mlamaProcess(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  onStart?: (kill: (sig: NodeJS.Signals) => void, output: () => string) => void,
): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, out, err }));
    onStart?.(
      (sig) => child.kill(sig),
      () => out + err,
    );
  });
}

/**
 * Polls a results database from this process every 5 ms and calls `act` once `when(runs, rows)` holds (the run
 * and answer counts), for tests that signal a running process at a known point. Stops polling after `giveUpMs`.
 */
export function whenStored(db: string, when: (runs: number, rows: number) => boolean, act: () => void, giveUpMs?: number): void {
  const timer = setInterval(() => {
    if (!existsSync(db)) return;
    try {
      const d = new Database(db, { readonly: true, timeout: 1000 });
      try {
        const runs = (d.prepare('SELECT COUNT(*) AS n FROM runs').get() as { n: number }).n;
        const rows = (d.prepare('SELECT COUNT(*) AS n FROM results').get() as { n: number }).n;
        if (!when(runs, rows)) return;
      } finally {
        d.close();
      }
      clearInterval(timer);
      act();
    } catch {
      // The schema may not exist yet.
    }
  }, 5);
  if (giveUpMs !== undefined) setTimeout(() => clearInterval(timer), giveUpMs).unref();
}
