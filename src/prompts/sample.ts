import { createHash } from 'node:crypto';
import { fail } from '../errors.js';

/**
 * A seeded sample of a language's queries (`mlama run --sample N --seed S`), stratified over relations: each
 * relation gets its share of N in proportion to its queries (largest remainders, ties by relation name), and
 * within a relation the subjects whose hash of (seed, language, relation, subject) is smallest are taken. The
 * choice depends on nothing but those names, so two runs with the same sample answer the same queries on any
 * machine, whatever the file order.
 */
export interface SampleSpec {
  size: number;
  seed: number;
}

/** The sample a run asks for: --seed alone is refused, as it would be stored while changing nothing. */
export function sampleOf(o: { sample?: number; seed?: number; given?: string[] }): SampleSpec | undefined {
  if (o.sample === undefined) {
    if (o.given?.includes('seed')) fail('--seed chooses the queries of --sample: give --sample N too');
    return undefined;
  }
  return { size: o.sample, seed: o.seed ?? 1 };
}

/** A non-negative integer for --seed. */
export function seedValue(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) fail(`--seed must be a non-negative integer, got "${text}"`);
  return n;
}

/** How many of `size` each relation gets: proportional, largest remainders first (then relation name). */
export function allocate(counts: { relation: string; count: number }[], size: number): Map<string, number> {
  const total = counts.reduce((s, c) => s + c.count, 0);
  if (size >= total) return new Map(counts.map((c) => [c.relation, c.count]));
  const shares = counts.map((c) => ({ ...c, exact: (size * c.count) / total }));
  const out = new Map(shares.map((s) => [s.relation, Math.floor(s.exact)]));
  let left = size - [...out.values()].reduce((s, k) => s + k, 0);
  const order = [...shares].sort((x, y) => y.exact - Math.floor(y.exact) - (x.exact - Math.floor(x.exact)) || x.relation.localeCompare(y.relation));
  for (const s of order) {
    if (left === 0) break;
    if (out.get(s.relation)! < s.count) {
      out.set(s.relation, out.get(s.relation)! + 1);
      left--;
    }
  }
  return out;
}

function rank(seed: number, language: string, relation: string, subject: string): string {
  return createHash('sha256').update(`${seed}\u0000${language}\u0000${relation}\u0000${subject}`).digest('hex');
}

/** The sampled subjects of one language, as `relation\u0000subject` keys. */
export function sampleSubjects(language: string, relations: { relation: string; subjects: string[] }[], spec: SampleSpec): Set<string> {
  const quota = allocate(
    relations.map((r) => ({ relation: r.relation, count: r.subjects.length })),
    spec.size,
  );
  const chosen = new Set<string>();
  for (const r of relations) {
    const ranked = r.subjects.map((s) => ({ s, h: rank(spec.seed, language, r.relation, s) })).sort((x, y) => (x.h < y.h ? -1 : x.h > y.h ? 1 : 0));
    for (const { s } of ranked.slice(0, quota.get(r.relation) ?? 0)) chosen.add(sampleKey(r.relation, s));
  }
  return chosen;
}

export const sampleKey = (relation: string, subject: string): string => `${relation}\u0000${subject}`;
