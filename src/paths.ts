import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fail } from './errors.js';

/** The package root (where package.json is), from src/ under tsx or dist/src/ when built. */
function packageRoot(): string {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) fail('cannot find the package root (package.json) for the bundled prompts/ and contract');
    dir = up;
  }
  return dir;
}

export const PACKAGE_ROOT = packageRoot();

/** Whether two paths name one file: the same resolved path, or (both existing) the same inode through a link. */
export function sameFile(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true;
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}
