import { fail } from '../../errors.js';
import { bert } from './bert.js';
import { luke } from './luke.js';
import type { ModelFamily } from './types.js';
import { xlmr } from './xlmr.js';

export type { ModelFamily } from './types.js';

/**
 * The model families, by the name a manifest's `family` field and `make-checkpoint --family` use. Adding a family:
 * one module beside these (its graph's input groups and heads, tokenizer conventions, layout, FLOPs), one line
 * here, and its branch in tools/export_mluke.py (FAMILIES).
 */
export const FAMILIES = { luke, xlmr, bert } as const satisfies Record<string, ModelFamily>;
export type FamilyName = keyof typeof FAMILIES;
export const FAMILY_NAMES = Object.keys(FAMILIES) as FamilyName[];

export function isFamilyName(name: unknown): name is FamilyName {
  return typeof name === 'string' && Object.hasOwn(FAMILIES, name);
}

export function familyByName(name: string, where: string): ModelFamily {
  if (!isFamilyName(name)) fail(`${where}: unknown model family "${name}"; known: ${FAMILY_NAMES.join(', ')}`);
  return FAMILIES[name];
}

/** Manifests written before families existed name an `architecture`: "luke", or "word-only" for XLM-R exports. */
export function legacyFamily(architecture: unknown): FamilyName | null {
  return architecture === 'luke' ? 'luke' : architecture === 'word-only' ? 'xlmr' : null;
}
