import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
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
