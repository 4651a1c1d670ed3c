import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fail } from '../errors.js';
import { readJsonFile } from '../data/jsonl.js';

/** A prompt style as data (prompts/*.json): which inputs it adds and which head it reads. */
export interface PromptStyle {
  name: string;
  description: string;
  head: 'word' | 'entity';
  /** 'candidate-length': one pass per candidate token length N with N masks; 'single': one mask, one pass. */
  objectMasks: 'candidate-length' | 'single';
  /** What stands at the subject's tokens in the entity input. */
  subjectEntity: 'none' | 'entity' | 'mask';
  deviation?: string;
}

function packageRoot(): string {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) fail('cannot find the package root (package.json) for the bundled prompts/');
    dir = up;
  }
  return dir;
}

export const PROMPTS_DIR = join(packageRoot(), 'prompts');

export function availableStyles(): string[] {
  return readdirSync(PROMPTS_DIR).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
}

/** A bundled style by name, or a style file by path. */
export function loadStyle(nameOrPath: string): PromptStyle {
  const file = nameOrPath.endsWith('.json') ? nameOrPath : join(PROMPTS_DIR, `${nameOrPath}.json`);
  if (!existsSync(file)) fail(`unknown prompt style "${nameOrPath}"; available: ${availableStyles().join(', ')} (or a path to a .json style)`);
  const j = readJsonFile(file) as Record<string, unknown>;
  const oneOf = <T extends string>(field: string, allowed: readonly T[]): T => {
    const v = j[field];
    if (!allowed.includes(v as T)) fail(`${file}: field "${field}" must be one of ${allowed.join(', ')}`);
    return v as T;
  };
  if (typeof j.name !== 'string' || !j.name) fail(`${file}: field "name" must be a non-empty string`);
  const style: PromptStyle = {
    name: j.name,
    description: typeof j.description === 'string' ? j.description : '',
    head: oneOf('head', ['word', 'entity'] as const),
    objectMasks: oneOf('object_masks', ['candidate-length', 'single'] as const),
    subjectEntity: oneOf('subject_entity', ['none', 'entity', 'mask'] as const),
    deviation: typeof j.deviation === 'string' ? j.deviation : undefined,
  };
  if (style.head === 'word' && style.objectMasks === 'single') fail(`${file}: a word-head style needs one mask per candidate token (object_masks "candidate-length")`);
  if (style.head === 'word' && style.subjectEntity !== 'none') fail(`${file}: a word-only style adds no entities (subject_entity "none")`);
  return style;
}
