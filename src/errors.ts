/**
 * Errors a user can act on: one line naming the file and line or the field, and the exit code the CLI uses.
 * Anything else that escapes is a bug and is reported with its stack.
 */
export class HarnessError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = 2,
  ) {
    super(message);
    this.name = 'HarnessError';
  }
}

export function fail(message: string, exitCode = 2): never {
  throw new HarnessError(message, exitCode);
}

export type WarningSink = (message: string) => void;

/**
 * An outcome the command has already reported in full (a failed gate, an interrupted run): the CLI exits with
 * this code and prints nothing more. Commands throw it instead of setting process.exitCode, so the one place that
 * maps outcomes to exit codes is main().
 */
export class ExitStatus extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
    this.name = 'ExitStatus';
  }
}

/** Runs a tool script's main: a HarnessError becomes its one `error:` line and exit code, anything else is a bug. */
export function runTool(main: () => void): void {
  try {
    main();
  } catch (e) {
    if (!(e instanceof HarnessError)) throw e;
    console.error(`error: ${e.message}`);
    process.exit(e.exitCode);
  }
}
