import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { fail } from '../errors.js';
import { distinct } from '../data/mlama.js';

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

/** Option parser for counts and sizes: a positive integer, else one line and exit 2. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) fail(`expected a positive integer, got "${value}"`);
  return n;
}

/** Points for a gate: a plain non-negative decimal ("2", "0.5"); "abc", "1pt", "1,5", "-1" would be NaN or a gate that never fires. */
export function points(value: string): number {
  if (!/^\d+(\.\d+)?$/.test(value.trim())) fail(`--fail-on-drop must be a non-negative number of points such as 2 or 0.5, got "${value}"`);
  return Number(value);
}

/** Intra-op threads: more than 4x the cores only thrashes (5 answers took 54 s with --threads 999). */
export function threadCount(value: string): number {
  const n = positiveInt(value);
  const cores = availableParallelism();
  if (n > 4 * cores) fail(`--threads ${n} is more than 4x this machine's ${cores} cores; use at most ${4 * cores} (default: ${cores})`);
  return n;
}

/** Run names are looked up beside ids and the "latest" alias: a name that reads as one of those would be ambiguous. */
export function runName(value: string): string {
  if (value.trim() === '') fail('--name must not be empty');
  if (/^\d+$/.test(value)) fail(`--name "${value}" reads as a run id (runs are found by name or id); use a name with a letter in it`);
  if (value === 'latest') fail('--name "latest" is the alias of the newest run; choose another name');
  return value;
}

export function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A selection list for `flag`: empty (`--languages ''`) and duplicated items are errors, not "everything" or double work. */
export function selection(flag: string): (value: string) => string[] {
  return (value) => distinct(flag, list(value));
}

function templatesChoice(value: string): 'main' | 'all' {
  if (value !== 'main' && value !== 'all') fail(`--templates must be main or all, got "${value}"`);
  return value;
}

/** The options that choose the queries, shared by `run` and `shards`, which must split the same set. */
export function querySelectionOptions(c: Command): Command {
  return c
    .option('--languages <list>', 'comma-separated languages (default: all)', selection('--languages'))
    .option('--relations <list>', 'comma-separated relations (default: all)', selection('--relations'))
    .option('--styles <list>', 'prompt styles (prompts/*.json)', selection('--styles'), ['word', 'entity'])
    .option('--limit <n>', 'at most N queries per relation and language', positiveInt)
    .option('--templates <which>', 'main | all (paraphrases too)', templatesChoice, 'main')
    .option(
      '--fallback',
      "entity lookup falls back to the same Wikidata id's labels in other languages (query language, then en, then A-Z; homographs refused); not the paper's protocol, and reports name it",
      false,
    )
    .option('--no-fallback', "entity lookup as `<lang>:<title>` in the query language only (the paper's protocol; the default)");
}

/** `mlama ... | head` closes the pipe early: that is the reader's choice, not an error. */
export function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      throw e;
    });
  }
}
