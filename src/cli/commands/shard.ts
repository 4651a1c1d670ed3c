import { shardSpec } from '../../run/config.js';
import type { ShardSpec } from '../../run/shard.js';

/** Without --shard: Slurm's job-array variables; I counts from 0 (Slurm arrays are usually declared 0-(N-1)). */
export function shardFromEnv(env: NodeJS.ProcessEnv): ShardSpec | undefined {
  if (env.SLURM_ARRAY_TASK_ID === undefined || env.SLURM_ARRAY_TASK_COUNT === undefined) return undefined;
  const min = Number(env.SLURM_ARRAY_TASK_MIN ?? 0);
  return shardSpec(`${Number(env.SLURM_ARRAY_TASK_ID) - min}/${env.SLURM_ARRAY_TASK_COUNT}`, ' (from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT)');
}
