import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readJsonl, readLines } from '../src/data/jsonl.js';
import { tempDir } from './support/cli.js';

/** Bytes produced by Buffer.concat while `fn` runs: the reader's copying work, independent of machine speed. */
function concatBytes(fn: () => void): number {
  const original = Buffer.concat;
  let bytes = 0;
  Buffer.concat = ((list: readonly Uint8Array[], total?: number) => {
    const out = original(list, total);
    bytes += out.length;
    return out;
  }) as typeof Buffer.concat;
  try {
    fn();
  } finally {
    Buffer.concat = original;
  }
  return bytes;
}

function bigLineFile(mb: number): { file: string; size: number; label: string } {
  const label = 'x'.repeat(mb * 2 ** 20);
  const file = join(tempDir(), `big-${mb}.jsonl`);
  const text = `{"a":1}\n${JSON.stringify({ sub_label: label })}\n{"b":2}\n`;
  writeFileSync(file, text);
  return { file, size: Buffer.byteLength(text), label };
}

test('a 12 MB line is joined once: the reader copies O(line) bytes, not a re-join per 64 KB chunk', () => {
  const { file, size, label } = bigLineFile(12);
  let values: Record<string, unknown>[] = [];
  const t0 = performance.now();
  const copied = concatBytes(() => {
    values = [...readJsonl(file)].map((v) => v.value);
  });
  const ms = performance.now() - t0;
  assert.equal(values.length, 3);
  assert.equal((values[1].sub_label as string).length, label.length);
  // Re-joining per chunk copies about size^2 / (2 x 64 KiB) bytes: 1.2 GB here. Linear: at most the file, once.
  assert.ok(copied <= size, `copied ${copied} bytes for a ${size}-byte file`);
  console.log(
    `jsonl benchmark: ${(size / 2 ** 20).toFixed(1)} MiB file with one 12 MiB line read in ${ms.toFixed(0)} ms, ${copied} bytes joined (benchmark figure, not asserted)`,
  );
});

test('lines across chunk boundaries, multi-byte characters split by a chunk, and a last line without newline', () => {
  const file = join(tempDir(), 'split.jsonl');
  const long = 'é'.repeat(70_000); // 140,000 bytes: spans three 64 KiB chunks, with a 2-byte character cut
  writeFileSync(file, `a\n${long}\n\nb`);
  assert.deepEqual(
    [...readLines(file)].map((l) => [l.line, l.text.length]),
    [
      [1, 1],
      [2, 70_000],
      [3, 0],
      [4, 1],
    ],
  );
  assert.equal([...readLines(file)][1].text, long);
});
