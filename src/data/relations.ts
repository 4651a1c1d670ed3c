import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../errors.js';
import { readJsonl, stringField } from './jsonl.js';

/** Relation labels from a dataset's relations.jsonl (LAMA's layout), when the release has one; else none. */
export function readRelationNames(root: string): Record<string, string> {
  const file = join(root, 'relations.jsonl');
  const out: Record<string, string> = {};
  if (!existsSync(root)) fail(`${root}: dataset directory not found`);
  if (!existsSync(file)) return out;
  for (const { line, value } of readJsonl(file)) out[stringField(file, line, value, 'relation')] = stringField(file, line, value, 'label');
  return out;
}
