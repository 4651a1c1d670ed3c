import { spawn } from 'node:child_process';
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
