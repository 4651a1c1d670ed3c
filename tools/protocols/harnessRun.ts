import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { openStore, readResults, requireRun, type ResultRow } from '../../src/store/db.js';

const MAIN = join(import.meta.dirname, '../../src/cli/main-entry.ts');

/**
 * One `mlama run` of the checks' harness side, stored as `name` in `db` and read back. A file of an earlier check
 * is replaced: each check compares one run per name, and a run name taken would stop it.
 */
export function harnessRun(o: { model: string; data: string; db: string; name: string; protocol: string; languages: string[]; fresh?: boolean }): ResultRow[] {
  if (o.fresh) for (const side of ['', '-wal', '-shm']) rmSync(o.db + side, { force: true });
  const args = ['run', '--data', o.data, '--model', o.model, '--db', o.db, '--name', o.name, '--protocol', o.protocol, '--languages', o.languages.join(',')];
  execFileSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  const s = openStore(o.db, { readonly: true });
  try {
    return readResults(s, requireRun(s, o.name).id);
  } finally {
    s.db.close();
  }
}
