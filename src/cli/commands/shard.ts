import { fail } from '../../errors.js';
import { parseShardName, type ShardSpec } from '../../run/shard.js';

/** --shard I/N, else Slurm's job-array variables; I counts from 0 (Slurm arrays are usually declared 0-(N-1)). */
export function parseShard(flag: string | undefined, env: NodeJS.ProcessEnv): ShardSpec | undefined {
  let spec: string | undefined = flag;
  if (!spec && env.SLURM_ARRAY_TASK_ID !== undefined && env.SLURM_ARRAY_TASK_COUNT !== undefined) {
    const min = Number(env.SLURM_ARRAY_TASK_MIN ?? 0);
    spec = `${Number(env.SLURM_ARRAY_TASK_ID) - min}/${env.SLURM_ARRAY_TASK_COUNT}`;
  }
  if (!spec) return undefined;
  const parsed = parseShardName(spec);
  if (!parsed) fail(`--shard must be I/N with 0 <= I < N, got "${spec}"${flag ? '' : ' (from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT)'}`);
  return parsed;
}
