import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, progressBars, RateWindow } from '../src/report/progress.js';

test('durations: rounded once (5m00s, never 4m60s), hours, and "?" for unknown (never NFs)', () => {
  assert.equal(formatDuration(299.6), '5m00s');
  assert.equal(formatDuration(59.5), '1m00s');
  assert.equal(formatDuration(3723), '1h02m03s');
  assert.equal(formatDuration(7), '7s');
  for (const x of [NaN, Infinity, -1]) assert.equal(formatDuration(x), '?');
});

test('the early rate skips the warm-up batch: a 10 s first batch does not make the ETA ten times too long', () => {
  const w = new RateWindow(60_000, 2_000);
  w.add(0, 0); // start
  w.add(10_000, 64); // first batch: session start and first allocations
  assert.ok(Number.isNaN(w.rate()), 'no rate from the warm-up alone');
  for (let i = 1; i <= 10; i++) w.add(10_000 + i * 500, 64 + i * 64); // then 128 answers/s
  assert.equal(w.rate(), 128);
});

test('the rate follows a sliding window', () => {
  const w = new RateWindow(10_000, 1_000);
  w.add(0, 0);
  w.add(1_000, 10);
  for (let t = 2_000; t <= 30_000; t += 1_000) w.add(t, 10 + (t <= 15_000 ? (t - 1_000) / 100 : 140 + (t - 15_000) / 10));
  assert.equal(w.rate(), 100);
});

test('without a terminal: a plain line at a steady interval, answers/s, no ETA NFs', () => {
  let t = 0;
  const lines: string[] = [];
  const p = progressBars(false, (s) => lines.push(s), { now: () => t, everyMs: 30_000 });
  p.start('en', 10_000, 0);
  for (let i = 0; i < 100; i++) {
    t += 1_000; // one batch of 50 answers a second, for 100 s
    p.advance('en', 50);
  }
  p.stop();
  assert.equal(lines[0], 'en: 10000 answers to score');
  const progress = lines.slice(1);
  assert.equal(progress.length, 3, lines.join('\n')); // at 30, 60 and 90 s
  assert.match(progress[0], /^en: 1500\/10000 answers \(15\.0%\), 50\.0 answers\/s, ETA 2m50s$/);
  for (const l of lines) assert.doesNotMatch(l, /NF|60s|q\/s/);
});

test('without a terminal: a line when a language finishes, and a resume says where it starts', () => {
  let t = 0;
  const lines: string[] = [];
  const p = progressBars(false, (s) => lines.push(s), { now: () => t });
  p.start('ja', 100, 40);
  t += 500;
  p.advance('ja', 60);
  // One batch gives no rate yet: the line leaves it out instead of printing "? answers/s".
  assert.deepEqual(lines, ['ja: resuming at 40/100 answers', 'ja: 100/100 answers (100.0%)']);
});

test('without a terminal: before the rate is measured a line has neither a rate nor an ETA', () => {
  let t = 0;
  const lines: string[] = [];
  const p = progressBars(false, (s) => lines.push(s), { now: () => t, everyMs: 1_000 });
  p.start('en', 1_000, 0);
  t += 5_000; // the warm-up batch: no rate can be measured from it
  p.advance('en', 10);
  assert.deepEqual(lines, ['en: 1000 answers to score', 'en: 10/1000 answers (1.0%)']);
  for (const l of lines) assert.doesNotMatch(l, /\?/);
});
