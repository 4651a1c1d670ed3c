// Screenshots of the HTML pages for docs/img/, taken in Debian's chromium at 1440 px:
//   node --import tsx test/support/screenshots.ts
// Runs on the bundled sample: the committed known-answer checkpoint (word and entity styles) beside a tiny random one.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { cli, SAMPLE_DATA, tempDir } from './cli.js';
import { tinyCheckpoint } from './fixtures.js';

const dir = tempDir();
const db = join(dir, 'r.sqlite');
const CK = join(import.meta.dirname, '../../datasets/known-answer');
const must = async (...a: string[]) => {
  const r = await cli(...a);
  if (r.code !== 0) throw new Error(`${a.join(' ')}: ${r.err}`);
  return r.out;
};
const run = ['run', '--data', SAMPLE_DATA, '--db', db, '--threads', '1'];
await must(...run, '--model', CK, '--name', 'known', '--label', 'known-answer checkpoint', '--styles', 'word,entity', '--limit', '20');
await must(...run, '--model', tinyCheckpoint(1, false, SAMPLE_DATA), '--name', 'random', '--label', 'random weights', '--styles', 'word', '--limit', '20');
const report = join(dir, 'report.html');
await must('report', '--db', db, '--runs', 'random:word,known:word,known:entity', '--format', 'html', '--out', report);
const known = join(dir, 'known.html');
const facts = join(CK, 'training-facts.jsonl');
writeFileSync(known, await must('known-answer', '--db', db, '--run', 'known', '--facts', facts, '--data', SAMPLE_DATA, '--format', 'html'));

const out = join(import.meta.dirname, '../../docs/img');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(`file://${report}`);
  await page.locator('#chart').screenshot({ path: join(out, 'report-overview.png') });
  await page.goto(`file://${known}`);
  await page.locator('#classes').screenshot({ path: join(out, 'known-answer-classes.png') });
} finally {
  await browser.close();
}
console.log(`wrote ${out}/report-overview.png and ${out}/known-answer-classes.png`);
