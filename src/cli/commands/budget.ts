import { fail } from '../../errors.js';
import { budgetLine, chooseSample } from '../../run/budget.js';
import type { RunCommandOptions } from '../../run/config.js';
import type { Io } from '../io.js';

/** `run --budget MINUTES`: the sample the budget pays for, printed, then run as if given as --sample. */
export async function withBudget(o: RunCommandOptions, io: Io): Promise<RunCommandOptions> {
  if (o.resume) fail('--budget chooses the sample of a new run; a resumed run keeps its stored sample');
  if (o.sample !== undefined) fail('--budget chooses --sample: give one of them');
  const choice = await chooseSample(o, o.budget!);
  io.out(budgetLine(o.budget!, choice));
  return { ...o, sample: choice.size, given: o.given ? [...o.given, 'sample'] : undefined };
}
