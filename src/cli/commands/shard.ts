import { fail } from '../../errors.js';
import type { BuiltQuery } from '../../prompts/build.js';
import { unitHash } from '../../tokenize/entityVocabBuild.js';

export interface ShardChoice {
  spec: { index: number; count: number };
  select: (b: BuiltQuery) => boolean;
}

/** --shard I/N, else Slurm's array variables; I counts from 0. */
export function parseShard(flag: string | undefined, env: NodeJS.ProcessEnv): ShardChoice | undefined {
  let spec: string | undefined = flag;
  if (!spec && env.SLURM_ARRAY_TASK_ID !== undefined && env.SLURM_ARRAY_TASK_COUNT !== undefined) spec = `${env.SLURM_ARRAY_TASK_ID}/${env.SLURM_ARRAY_TASK_COUNT}`;
  if (!spec) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(spec);
  if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) fail(`--shard must be I/N with 0 <= I < N, got "${spec}"`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  // A query's shard depends only on its identity, so it is stable across machines and reruns.
  return { spec: { index, count }, select: (b) => Math.floor(unitHash(`${b.query.language}|${b.query.relation}|${b.query.subject}`) * count) === index };
}
