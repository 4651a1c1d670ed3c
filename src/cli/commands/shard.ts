import { fail } from '../../errors.js';
import { shardSpec } from '../../run/config.js';
import type { ShardSpec } from '../../run/shard.js';

/** Without --shard: Slurm's job-array variables; I counts from 0 (Slurm arrays are usually declared 0-(N-1)). */
export function shardFromEnv(env: NodeJS.ProcessEnv): ShardSpec | undefined {
  if (env.SLURM_ARRAY_TASK_ID === undefined) return undefined;
  // Without the count the task cannot know its share: running everything in each task would repeat the work.
  if (env.SLURM_ARRAY_TASK_COUNT === undefined)
    fail(
      `SLURM_ARRAY_TASK_ID is ${JSON.stringify(env.SLURM_ARRAY_TASK_ID)} but SLURM_ARRAY_TASK_COUNT is not set, so the shard count is unknown; give --shard I/N (--shard 0/1 runs everything)`,
    );
  const min = Number(env.SLURM_ARRAY_TASK_MIN ?? 0);
  return shardSpec(`${Number(env.SLURM_ARRAY_TASK_ID) - min}/${env.SLURM_ARRAY_TASK_COUNT}`, ' (from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT)');
}
