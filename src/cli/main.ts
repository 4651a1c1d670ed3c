import { Command, CommanderError } from 'commander';
import { ExitStatus, HarnessError } from '../errors.js';
import { registerBench } from './commands/bench.js';
import { registerCluster } from './commands/cluster.js';
import { registerData } from './commands/data.js';
import { registerExport } from './commands/export.js';
import { registerKnownAnswer } from './commands/knownAnswer.js';
import { registerLs } from './commands/ls.js';
import { registerModel } from './commands/model.js';
import { registerRuns } from './commands/runs.js';
import { registerReport } from './commands/report.js';
import { processIo, type Io } from './io.js';
import { HARNESS_VERSION } from '../run/evaluate.js';

export function buildProgram(io: Io): Command {
  const program = new Command('mlama')
    .description('mLAMA factual-knowledge harness for mLUKE-style masked language models')
    .version(HARNESS_VERSION, '--version', 'print the mlama-harness version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  registerData(program, io);
  registerModel(program, io);
  registerRuns(program, io);
  registerReport(program, io);
  registerCluster(program, io);
  registerBench(program, io);
  registerKnownAnswer(program, io);
  registerExport(program, io);
  registerLs(program, io);
  const override = (c: Command): void => {
    c.exitOverride();
    c.commands.forEach(override);
  };
  program.commands.forEach(override);
  return program;
}

/** Runs the CLI and returns its exit code: 0 ok, 1 a gate failed, 2 bad input or usage, 3 internal error. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof ExitStatus) return e.exitCode;
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof HarnessError) {
      io.err(`error: ${e.message}`);
      return e.exitCode;
    }
    io.err(`internal error: ${(e as Error)?.stack ?? String(e)}`);
    return 3;
  }
}
