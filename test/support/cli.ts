import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';

export const SHARED_DATA = process.env.MLAMA_SHARED_DATA ?? join(import.meta.dirname, '../../../shared/datasets/mlama');
export const SAMPLE_DATA = join(import.meta.dirname, '../../datasets/mlama-sample');

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** Runs the CLI in this process, capturing what it writes. */
export async function cli(...argv: string[]): Promise<CliResult> {
  let out = '';
  let err = '';
  const saved = process.exitCode;
  process.exitCode = undefined;
  const code = await main(argv, {
    out: (t) => (out += t + (t.endsWith('\n') ? '' : '\n')),
    err: (t) => (err += t + (t.endsWith('\n') ? '' : '\n')),
    tty: false,
  });
  process.exitCode = saved;
  return { code, out, err };
}

export function tempDir(prefix = 'mlama-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A writable copy of the bundled sample, for tests that break it. */
export function sampleCopy(): string {
  const dir = join(tempDir(), 'data');
  cpSync(SAMPLE_DATA, dir, { recursive: true });
  return dir;
}
