import { stripVTControlCharacters } from 'node:util';
import Table from 'cli-table3';

export type Cell = string | number;

/**
 * A number, or a number as text with its decimals fixed ("50.0", coloured or not, with a note in brackets such as
 * an average's "(3/4)", or a bound such as a p value's "<0.001"): a cell right-aligned.
 */
export const isNumericCell = (c: Cell): boolean => typeof c === 'number' || /^[<>]?-?\d+(\.\d+)?( \(.*\))?$/.test(stripVTControlCharacters(c));

/** A column of numbers, where '-' marks a value not defined: right-aligned. */
const numericColumn = (cells: (Cell | undefined)[]): boolean =>
  cells.some((c) => c !== undefined && isNumericCell(c)) && cells.every((c) => c === undefined || c === '-' || isNumericCell(c));

/** A terminal table; numbers are right-aligned. */
export function renderTable(head: string[], rows: Cell[][], opts: { colour?: boolean } = {}): string {
  const table = new Table({
    head,
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    style: { head: opts.colour === false ? [] : ['cyan'], border: opts.colour === false ? [] : ['grey'] },
    colAligns: head.map((_, i) => (numericColumn(rows.map((r) => r[i])) ? 'right' : 'left')),
  });
  for (const r of rows) table.push(r.map((c) => String(c)));
  return table.toString();
}

export function toCsv(head: string[], rows: Cell[][]): string {
  return [head, ...rows].map(csvLine).join('');
}

/** One CSV record with its newline; quoted where a cell holds a comma, quote or newline. */
export function csvLine(cells: Cell[]): string {
  const esc = (c: Cell) => {
    const s = String(c);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return cells.map(esc).join(',') + '\n';
}
