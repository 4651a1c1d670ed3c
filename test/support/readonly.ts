import { spawnSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import type { CliResult } from './cli.js';

const ENTRY = join(import.meta.dirname, '../../src/cli/main-entry.ts');

/**
 * Runs the CLI as its own process while `file` cannot be written. Root ignores permission bits: for root the
 * file is bind-mounted read-only in a private mount namespace (its directory stays writable); otherwise it gets
 * mode 0444 for the run.
 */
export function cliOnReadOnlyFile(file: string, argv: string[]): CliResult {
  const node = [process.execPath, '--import', 'tsx', ENTRY, ...argv];
  const root = process.getuid?.() === 0;
  if (!root) chmodSync(file, 0o444);
  try {
    const r = root
      ? spawnSync('unshare', ['-m', 'sh', '-c', 'mount --bind -o ro "$0" "$0" && exec "$@"', file, ...node], { encoding: 'utf8' })
      : spawnSync(node[0], node.slice(1), { encoding: 'utf8' });
    return { code: r.status ?? -1, out: r.stdout, err: r.stderr + (r.error ? `spawn: ${r.error.message}\n` : '') };
  } finally {
    if (!root) chmodSync(file, 0o644);
  }
}
