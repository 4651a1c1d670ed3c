/**
 * Types the ground floor shares: a prompt style (prompts/) names the head it reads, a model family (model/)
 * the heads it serves, and reports group columns by it. Kept here so no layer imports up to learn them.
 */

/** A head a prompt style reads and a family may serve: the request type of a pass. */
export const HEADS = ['word', 'entity'] as const;
export type Head = (typeof HEADS)[number];
