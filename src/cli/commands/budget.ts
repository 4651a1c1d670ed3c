import { setImmediate as nextTurn } from 'node:timers/promises';
import { ExitStatus, fail } from '../../errors.js';
import { budgetLine, chooseSample } from '../../run/budget.js';
import type { RunCommandOptions } from '../../run/config.js';
import { selectionOf, type RunContext } from '../../run/context.js';
import { runContext } from '../../run/evaluate.js';
import type { Io } from '../io.js';

/**
 * `run --budget MINUTES`: the sample the budget pays for, printed, then run as if given as --sample. A run stopped
 * meanwhile (Ctrl-C, or its output pipe closed, as `| head -1` does once it has the line) stores nothing. The
 * run's context is opened once, here: the pilot prices it and the run is handed it with the sample chosen.
 */
export async function withBudget(o: RunCommandOptions, io: Io, stopped: () => boolean = () => false): Promise<{ o: RunCommandOptions; context: RunContext }> {
  if (o.resume) fail('--budget chooses the sample of a new run; a resumed run keeps its stored sample');
  if (o.sample !== undefined) fail('--budget chooses --sample: give one of them');
  // Each shard's pilot times differently, so shards would choose different samples and could never be merged.
  if (o.shard && o.shard.count > 1)
    fail(
      `--budget with shard ${o.shard.index}/${o.shard.count}: each shard would time its own pilot and choose its own --sample, and shards of different samples cannot be merged; give every shard the same --sample N (a run with --budget prints the N it chooses)`,
    );
  const context = runContext(o);
  const choice = await chooseSample(context, o, o.budget!);
  io.out(budgetLine(o.budget!, choice));
  // A write to a closed pipe fails on a later turn of the event loop: wait for it before starting the run.
  await nextTurn();
  if (stopped()) {
    io.err(`stopped after the --budget pilot, before the run started: nothing stored (the line above says what to run)`);
    throw new ExitStatus(130);
  }
  if (choice.size === null) return { o, context };
  const sampled = { ...o, sample: choice.size, given: o.given ? [...o.given, 'sample'] : undefined };
  return { o: sampled, context: { ...context, selection: selectionOf(sampled) } };
}
