import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fail } from './errors.js';

/** The package root (where package.json is) above `from`: src/ under tsx, or dist/src/ when built. */
export function packageRoot(from = import.meta.dirname): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) fail(`cannot find the package root (package.json) above ${from}, which holds the bundled prompts/, contract and tools/`);
    dir = up;
  }
  return dir;
}

export const PACKAGE_ROOT = packageRoot();

/**
 * A path with every symlink resolved, also for a file that does not exist yet (its folder resolved): SQLite keeps
 * a database's -wal and -shm beside the resolved file, not beside the link it was opened through.
 */
export function canonicalPath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    try {
      return join(realpathSync(dirname(resolve(p))), basename(p));
    } catch {
      return resolve(p);
    }
  }
}

/** Whether two paths name one file: the same resolved path (links followed), or (both existing) the same inode. */
export function sameFile(a: string, b: string): boolean {
  if (resolve(a) === resolve(b) || canonicalPath(a) === canonicalPath(b)) return true;
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}
