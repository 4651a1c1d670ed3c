import { fail } from '../errors.js';

/** Every output format a command writes, with what it is: each `--format`'s choices, check and help come from here. */
export const FORMATS = {
  table: 'terminal table',
  text: 'lines to read',
  json: 'JSON',
  jsonl: 'one JSON record per line',
  csv: 'comma-separated values',
  markdown: 'a Markdown table',
  latex: 'a LaTeX booktabs tabular',
  html: 'one self-contained HTML page',
  junit: 'JUnit XML, one test case per check',
} as const;

export type FormatName = keyof typeof FORMATS;

/** A command's `--format`: the formats it writes (the first is the default), what each shows there if more than FORMATS says. */
export function formatOption<T extends FormatName>(
  names: readonly T[],
  notes: Partial<Record<T, string>> = {},
): { flags: string; help: string; parse: (v: string) => T; default: T } {
  return {
    flags: '--format <fmt>',
    help: names.map((n) => `${n} (${notes[n] ?? FORMATS[n]})`).join(' | '),
    parse: (v) => {
      if (!(names as readonly string[]).includes(v)) fail(`--format must be ${names.slice(0, -1).join(', ')} or ${names.at(-1)}, got "${v}"`);
      return v as T;
    },
    default: names[0],
  };
}
