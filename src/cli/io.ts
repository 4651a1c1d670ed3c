import type { Command } from 'commander';
import { fail } from '../errors.js';
import { RUN_OPTIONS, type OptionTable } from '../run/config.js';

/** Where commands write; tests pass their own to capture output without spawning a process. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Whether stdout is a terminal (colours, progress bars). */
  tty: boolean;
}

export const processIo: Io = {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : t + '\n'),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : t + '\n'),
  tty: Boolean(process.stdout.isTTY),
};

/**
 * Points for a gate: a plain decimal from 0 to 100 ("2", "0.5"), as a gate file's max_drop; "abc", "1pt", "1,5",
 * "-1" would be NaN, and over 100 points (no P@1 can drop that far) a gate that never fires.
 */
export function points(value: string): number {
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || Number(value) > 100)
    fail(`--fail-on-drop must be a number of points from 0 to 100 such as 2 or 0.5, got "${value}"`);
  return Number(value);
}

export { count, list, runName, selection, threadCount } from '../run/config.js';

/** The warning every reading command gives for a run that stopped before its plan: what its numbers cover. */
export function warnIfIncomplete(io: Io, run: { name: string; status: string; planned: number }, stored: number): void {
  if (run.status !== 'complete') io.err(`warning: run "${run.name}" is ${run.status}: ${stored}/${run.planned} answers; the numbers cover only what is stored`);
}

/** Declares options of a table (src/run/config.ts) on a command: `keys` picks some, in the table's order. */
export function declareOptions(c: Command, table: OptionTable, keys?: readonly string[]): Command {
  for (const [key, s] of Object.entries(table)) {
    if (keys && !keys.includes(key)) continue;
    if (s.parse) c.option(s.flags, s.help, (v: string) => s.parse!(v), s.default);
    else c.option(s.flags, s.help, s.default);
    if (s.negation) c.option(`--no-${s.flags.replace(/^--/, '')}`, s.negation);
  }
  return c;
}

/** The options that choose the queries, shared by `run` and `shards`, which must split the same set. */
export const SELECTION_KEYS = Object.keys(RUN_OPTIONS).filter((k) => RUN_OPTIONS[k as keyof typeof RUN_OPTIONS].selects);

let closedPipeStop: (() => void) | undefined;
/** A run was stopped by a closed pipe: later writes to it are dropped and the run's own exit status stands. */
let pipeClosedInRun = false;

/**
 * While a run scores, a closed output pipe stops it as a closed terminal does (after the current batch, stored as
 * interrupted, exit 130) instead of ending the process with exit 0 and the run half done. Returns the release.
 */
export function stopOnClosedPipe(stop: () => void): () => void {
  closedPipeStop = stop;
  return () => {
    if (closedPipeStop === stop) closedPipeStop = undefined;
  };
}

/**
 * `mlama ... | head` closes the pipe early: that is the reader's choice, not an error. A command that already
 * failed keeps its status: its error line is what met the closed pipe (`2>&1 | head -1`).
 */
export function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      const closed = e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED';
      if (closed && closedPipeStop) {
        pipeClosedInRun = true;
        return closedPipeStop();
      }
      if (closed && pipeClosedInRun) return;
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
}
