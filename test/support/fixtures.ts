import { join } from 'node:path';
import { generateCheckpoint } from '../../src/model/generate.js';
import { tempDir, SHARED_DATA } from './cli.js';

const made = new Map<string, string>();

/** A tiny checkpoint whose entity vocabulary covers the shared data, generated once per test process. */
export function tinyCheckpoint(seed = 1, entityAware = false, data = SHARED_DATA): string {
  const key = `${seed}|${entityAware}|${data}`;
  let dir = made.get(key);
  if (!dir) {
    dir = join(tempDir('mlama-ck-'), 'tiny');
    generateCheckpoint({ preset: 'tiny', out: dir, seed, data, entityAware });
    made.set(key, dir);
  }
  return dir;
}
