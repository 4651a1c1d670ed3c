/**
 * The README's quickstart as data, for `make quickstart` (tools/quickstart.ts): the ```sh blocks marked
 * `<!-- quickstart: NAME -->`, the `<!-- output: NAME -->` blocks their real output goes into, and the numbers the
 * last line reports. Pure functions over text; the runner does the I/O.
 */
import { fail } from '../src/errors.js';
import { mcnemarExact } from '../src/report/compare.js';

export interface QuickstartBlock {
  name: string;
  /** 1-based line of the marker, for error messages. */
  line: number;
  commands: string[];
}

const MARK = /^<!-- quickstart: ([\w-]+) -->$/;
/** `<!-- output: NAME -->`, or `<!-- output: NAME trim -->` for a block whose commands' long outputs are cut. */
const OUTPUT = /^<!-- output: ([\w-]+)( trim)? -->$/;

/** The fenced block that starts right after a marker line (blank lines between are allowed): [first, closing) line indices. */
function fenceAfter(lines: string[], marker: number, lang: string, file: string): [number, number] {
  let i = marker + 1;
  while (i < lines.length && lines[i].trim() === '') i++;
  if (lines[i]?.trim() !== '```' + lang) fail(`${file}:${marker + 1}: "${lines[marker]}" must be followed by a \`\`\`${lang} block`);
  const end = lines.findIndex((l, j) => j > i && l.trim() === '```');
  if (end < 0) fail(`${file}:${i + 1}: the \`\`\`${lang} block is not closed`);
  return [i + 1, end];
}

/** A block's commands: backslash continuations joined, blank lines and comments dropped. */
function commandsOf(body: string[]): string[] {
  const out: string[] = [];
  let cur = '';
  for (const raw of body) {
    const l = cur ? raw.trim() : raw.trimEnd();
    if (!cur && (l.trim() === '' || l.trim().startsWith('#'))) continue;
    if (l.endsWith('\\')) cur += l.slice(0, -1).trimEnd() + ' ';
    else {
      out.push((cur + l).trim());
      cur = '';
    }
  }
  if (cur) out.push(cur.trim());
  return out;
}

/** Every marked ```sh block of the README, in order; refuses a README without one or with a name used twice. */
export function quickstartBlocks(readme: string, file = 'README.md'): QuickstartBlock[] {
  const lines = readme.split('\n');
  const blocks: QuickstartBlock[] = [];
  lines.forEach((l, i) => {
    const m = MARK.exec(l.trim());
    if (!m) return;
    if (blocks.some((b) => b.name === m[1])) fail(`${file}:${i + 1}: quickstart block "${m[1]}" is named twice`);
    const [from, to] = fenceAfter(lines, i, 'sh', file);
    const commands = commandsOf(lines.slice(from, to));
    if (!commands.length) fail(`${file}:${i + 1}: quickstart block "${m[1]}" holds no command`);
    blocks.push({ name: m[1], line: i + 1, commands });
  });
  if (!blocks.length) fail(`${file}: no quickstart blocks (a line "<!-- quickstart: NAME -->" before a \`\`\`sh block)`);
  return blocks;
}

/** One command's output cut to its first 2 lines (a run says there what it runs) and its last, the rest counted. */
export function trimOutput(out: string): string {
  const lines = out.replace(/\n+$/, '').split('\n');
  if (lines.length <= 4) return lines.join('\n');
  return [...lines.slice(0, 2), `[... ${lines.length - 3} lines]`, ...lines.slice(-1)].join('\n');
}

/** What a block's commands printed, each after its `$ command` line; cut per command in a `trim` output block. */
export function blockOutput(runs: { command: string; output: string }[], trim: boolean): string {
  return runs.map((r) => `$ ${r.command}\n${trim ? trimOutput(r.output) : r.output.replace(/\n+$/, '')}`).join('\n');
}

/** The README with each `<!-- output: NAME -->` block's text replaced by what block NAME's commands printed. */
export function fillOutputs(readme: string, outputs: Record<string, { command: string; output: string }[]>, file = 'README.md'): string {
  const lines = readme.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = OUTPUT.exec(lines[i].trim());
    if (!m || outputs[m[1]] === undefined) continue;
    const [from, to] = fenceAfter(lines, i, 'text', file);
    lines.splice(from, to - from, ...blockOutput(outputs[m[1]], !!m[2]).split('\n'));
  }
  return lines.join('\n');
}

/** The command of a block that starts with `prefix` (the report and compare the summary re-runs as JSON). */
export function commandStarting(blocks: QuickstartBlock[], prefix: string): string {
  const c = blocks.flatMap((b) => b.commands).find((x) => x.startsWith(prefix));
  if (!c) fail(`README.md: no quickstart command starts with "${prefix}"`);
  return c;
}

/** Rows x columns of `mlama report --runs ... --format json`: the multi-run table is `table` (or the document itself). */
export function paperTableShape(json: unknown): { languages: number; columns: number } {
  const doc = json as { table?: { languages?: unknown; columns?: unknown }; languages?: unknown; columns?: unknown };
  const t = doc.table ?? doc;
  if (!Array.isArray(t.languages) || !Array.isArray(t.columns)) fail('report --runs --format json: expected "table.languages" and "table.columns" arrays');
  return { languages: t.languages.length, columns: t.columns.length };
}

interface Delta {
  language?: string;
  p_value?: number;
  a_only?: number;
  b_only?: number;
}

/**
 * One p for the whole comparison from `mlama compare A B --format json`: the document's own overall p when it has
 * one (`p_value`, `overall.p_value`, a delta over language "all"); otherwise exact McNemar over the per-language
 * discordant counts pooled, the same test over every paired query.
 */
export function comparePValue(json: unknown): number {
  const doc = json as { p_value?: number; overall?: { p_value?: number }; deltas?: Delta[] };
  const own = doc.p_value ?? doc.overall?.p_value ?? doc.deltas?.find((d) => d.language === 'all')?.p_value;
  if (typeof own === 'number') return own;
  const ds = doc.deltas;
  if (!Array.isArray(ds) || !ds.length || ds.some((d) => typeof d.a_only !== 'number' || typeof d.b_only !== 'number'))
    fail('compare --format json: expected "p_value", or "deltas" with "a_only" and "b_only" counts');
  return mcnemarExact(
    ds.reduce((s, d) => s + d.a_only!, 0),
    ds.reduce((s, d) => s + d.b_only!, 0),
  );
}

export function summaryLine(n: number, exported: number, shape: { languages: number; columns: number }, compared: string, p: number): string {
  return `quickstart: ${n} README commands ran; exported ${exported} models; paper table ${shape.languages} x ${shape.columns}; compare ${compared} p=${Number(p.toPrecision(3))}`;
}
