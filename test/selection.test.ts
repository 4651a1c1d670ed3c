import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { cli, SAMPLE_DATA, sampleCopy, tempDir } from './support/cli.js';
import { tinyCheckpoint } from './support/fixtures.js';

// An empty, duplicated or unmatched selection is one line naming what matched nothing, before anything is scored.

const ck = tinyCheckpoint(1, false, SAMPLE_DATA);

async function refused(args: string[], err: RegExp, data = SAMPLE_DATA): Promise<void> {
  const db = join(tempDir(), 'sel.sqlite');
  const r = await cli('run', '--data', data, '--model', ck, '--limit', '2', '--db', db, ...args);
  assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}\n${r.out}${r.err}`);
  assert.match(r.err, err);
  assert.equal(r.err.trim().split('\n').length, 1, r.err);
  if (existsSync(db)) {
    const raw = new Database(db, { readonly: true });
    const n = (raw.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'results'").get() as { n: number }).n
      ? (raw.prepare('SELECT COUNT(*) AS n FROM results').get() as { n: number }).n
      : 0;
    raw.close();
    assert.equal(n, 0, 'nothing scored');
  }
}

test('duplicates in --languages, --styles and --relations are refused before scoring', async () => {
  await refused(['--languages', 'en,en'], /--languages lists "en" twice/);
  await refused(['--languages', 'en', '--styles', 'word,word'], /--styles lists "word" twice/);
  await refused(['--languages', 'en', '--relations', 'P19,P19'], /--relations lists "P19" twice/);
});

test("empty selections are refused: --languages '', --styles '', --relations ''", async () => {
  await refused(['--languages', ''], /--languages is empty: it selects nothing/);
  await refused(['--languages', 'en', '--styles', ''], /--styles is empty/);
  await refused(['--languages', 'en', '--relations', ' , '], /--relations is empty/);
});

test('relations that match nothing are named: P9999, and lower-case p19 with a hint', async () => {
  await refused(['--languages', 'en', '--relations', 'P19,P9999'], /--relations: "P9999" matches no relation in en; available: P19, P30, P36, P103, P1412/);
  await refused(['--languages', 'en,ja', '--relations', 'p19'], /--relations: "p19" matches no relation in en, ja \(did you mean "P19"\?/);
});

test('a language whose templates file is empty is an error, not a 0/0 complete run', async () => {
  const d = sampleCopy();
  writeFileSync(join(d, 'en', 'templates.jsonl'), '');
  await refused(['--languages', 'en'], /en\/templates\.jsonl: no templates \(the file is empty\)/, d);
  const s = await cli('data', 'stats', '--data', d, '--languages', 'en');
  assert.equal(s.code, 2);
  assert.match(s.err, /en\/templates\.jsonl: no templates/);
});

test('prompts --relation P9999 and data stats --languages "" say what matched nothing', async () => {
  const p = await cli('prompts', '--data', SAMPLE_DATA, '--model', ck, '--language', 'en', '--relation', 'P9999');
  assert.equal(p.code, 2);
  assert.match(p.err, /--relation: "P9999" matches no relation in en/);
  const s = await cli('data', 'stats', '--data', SAMPLE_DATA, '--languages', '');
  assert.equal(s.code, 2);
  assert.match(s.err, /--languages is empty/);
});
