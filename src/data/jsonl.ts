import { closeSync, openSync, readSync, readFileSync } from 'node:fs';
import { fail } from '../errors.js';

const CHUNK = 1 << 16;
export const BOM = '\ufeff';

/** Lines of a file, read in fixed chunks so memory stays flat whatever the file size. */
export function* readLines(file: string): Generator<{ line: number; text: string }> {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    fail(`${file}: cannot open (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const buf = Buffer.allocUnsafe(CHUNK);
  // The unfinished line's pieces, joined once when its newline arrives: a line spanning many chunks is copied
  // twice in all, not once per chunk (re-joining per chunk made a 12 MB line quadratic).
  let parts: Buffer[] = [];
  let line = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      const data = buf.subarray(0, n);
      let start = 0;
      for (let i = data.indexOf(10, start); i !== -1; i = data.indexOf(10, start)) {
        line += 1;
        if (parts.length) {
          parts.push(data.subarray(start, i));
          yield { line, text: Buffer.concat(parts).toString('utf8') };
          parts = [];
        } else yield { line, text: data.toString('utf8', start, i) };
        start = i + 1;
      }
      // buf is reused by the next read: keep a copy of the tail.
      if (start < n) parts.push(Buffer.from(data.subarray(start)));
    }
    if (parts.length) yield { line: line + 1, text: Buffer.concat(parts).toString('utf8') };
  } finally {
    closeSync(fd);
  }
}

/** JSON objects of a JSONL file with their line numbers; blank lines are skipped, anything else must parse. */
export function* readJsonl(file: string): Generator<{ line: number; value: Record<string, unknown> }> {
  for (const { line, text } of readLines(file)) {
    if (line === 1 && text.startsWith(BOM)) fail(`${file}:1: starts with a UTF-8 byte-order mark (BOM); save the file as UTF-8 without BOM`);
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      fail(`${file}:${line}: malformed JSON (${(e as Error).message.split('\n')[0]})`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      fail(`${file}:${line}: expected a JSON object`);
    }
    yield { line, value: value as Record<string, unknown> };
  }
}

export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    fail(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  if (text.startsWith(BOM)) fail(`${file}: starts with a UTF-8 byte-order mark (BOM); save the file as UTF-8 without BOM`);
  try {
    return JSON.parse(text);
  } catch (e) {
    fail(`${file}: malformed JSON (${(e as Error).message.split('\n')[0]})`);
  }
}

export function stringField(file: string, line: number, obj: Record<string, unknown>, field: string): string {
  const v = obj[field];
  if (v === undefined) fail(`${file}:${line}: missing field "${field}"`);
  if (typeof v !== 'string' || v.trim() === '') fail(`${file}:${line}: field "${field}" must be a non-empty string`);
  return v;
}
