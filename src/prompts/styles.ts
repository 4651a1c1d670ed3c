import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../errors.js';
import { readJsonFile } from '../data/jsonl.js';
import { PACKAGE_ROOT } from '../paths.js';
import { HEADS, type Head } from '../types.js';

/** A prompt style as data (prompts/*.json): which inputs it adds and which head it reads. */
export interface PromptStyle {
  name: string;
  description: string;
  head: Head;
  /**
   * Whether the entity inputs are fed (the object [MASK] entity, and the subject per subjectEntity): always for
   * the entity head; for the word head it is the authors' printed metric (entity inputs present, candidates
   * ranked by the word score).
   */
  entityInputs: boolean;
  /** 'candidate-length': one pass per candidate token length N with N masks; 'single': one mask, one pass. */
  objectMasks: 'candidate-length' | 'single';
  /** What stands at the subject's tokens in the entity input. */
  subjectEntity: 'none' | 'entity' | 'mask';
  deviation?: string;
  /** The file it was read from, and a hash of its bytes: what a run stores to tell an edited style apart. */
  file?: string;
  hash?: string;
}

/** What a run stores of each style, by name: a resume, a merge or a compare refuses a pair scored under two edits. */
export interface StyleDefinition {
  name: string;
  head: Head;
  entity_inputs: boolean;
  object_masks: PromptStyle['objectMasks'];
  subject_entity: PromptStyle['subjectEntity'];
  hash: string | null;
}

export function styleDefinitions(styles: readonly PromptStyle[]): Record<string, StyleDefinition> {
  return Object.fromEntries(
    styles.map((s) => [
      s.name,
      { name: s.name, head: s.head, entity_inputs: s.entityInputs, object_masks: s.objectMasks, subject_entity: s.subjectEntity, hash: s.hash ?? null },
    ]),
  );
}

/** Styles load by `given` names or paths; two of them with one `name` would store answers under one key. */
export function loadStyles(given: readonly string[]): PromptStyle[] {
  const styles = given.map(loadStyle);
  const seen = new Map<string, string>();
  styles.forEach((s, i) => {
    const other = seen.get(s.name);
    if (other !== undefined)
      fail(`--styles: "${other}" and "${given[i]}" are both named "${s.name}"; answers are stored by style name, so give one a name of its own`);
    seen.set(s.name, given[i]);
  });
  return styles;
}

export const PROMPTS_DIR = join(PACKAGE_ROOT, 'prompts');

export function availableStyles(): string[] {
  return readdirSync(PROMPTS_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

/** A bundled style by name, or a style file by path. */
export function loadStyle(nameOrPath: string): PromptStyle {
  const file = nameOrPath.endsWith('.json') ? nameOrPath : join(PROMPTS_DIR, `${nameOrPath}.json`);
  if (!existsSync(file)) fail(`unknown prompt style "${nameOrPath}"; available: ${availableStyles().join(', ')} (or a path to a .json style)`);
  const j = readJsonFile(file) as Record<string, unknown>;
  const hash = createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16);
  const oneOf = <T extends string>(field: string, allowed: readonly T[]): T => {
    const v = j[field];
    if (!allowed.includes(v as T)) fail(`${file}: field "${field}" must be one of ${allowed.join(', ')}`);
    return v as T;
  };
  if (typeof j.name !== 'string' || !j.name) fail(`${file}: field "name" must be a non-empty string`);
  const style: PromptStyle = {
    name: j.name,
    description: typeof j.description === 'string' ? j.description : '',
    head: oneOf('head', HEADS),
    entityInputs: j.head === 'entity' || j.entity_inputs === true,
    objectMasks: oneOf('object_masks', ['candidate-length', 'single'] as const),
    subjectEntity: oneOf('subject_entity', ['none', 'entity', 'mask'] as const),
    deviation: typeof j.deviation === 'string' ? j.deviation : undefined,
    file,
    hash,
  };
  if (j.entity_inputs !== undefined && typeof j.entity_inputs !== 'boolean') fail(`${file}: field "entity_inputs" must be true or false`);
  if (style.head === 'entity' && j.entity_inputs === false)
    fail(`${file}: an entity-head style reads the entity inputs (field "entity_inputs" cannot be false)`);
  if (style.head === 'word' && style.objectMasks === 'single')
    fail(`${file}: a word-head style needs one mask per candidate token (object_masks "candidate-length")`);
  if (!style.entityInputs && style.subjectEntity !== 'none')
    fail(`${file}: a style without entity inputs adds no subject entity (subject_entity "none", or "entity_inputs": true)`);
  return style;
}
