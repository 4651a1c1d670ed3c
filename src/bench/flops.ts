import type { Checkpoint } from '../model/checkpoint.js';
import type { BuiltQuery } from '../prompts/build.js';

/**
 * The useful FLOPs of a query: each pass's encoder on its real tokens and entities (no padding), plus the head
 * that is read, as the checkpoint's family counts them (src/model/families).
 */
export function queryFlops(ck: Pick<Checkpoint, 'config' | 'family'>, b: BuiltQuery): number {
  return b.passes.reduce((s, p) => s + ck.family.passFlops(ck.config, b.style.head, p), 0);
}
