import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, SAMPLE_DATA, tempDir } from './support/cli.js';
import { tinyCheckpoint } from './support/fixtures.js';
import { entityLinker, fallbackOrder, linkCounts } from '../src/tokenize/entityLinker.js';
import { prepareRelation, type PieceEncoder } from '../src/prompts/build.js';
import type { EntityVocab } from '../src/tokenize/entityVocab.js';
import type { LabelIndex } from '../src/data/labels.js';
import type { RelationSet } from '../src/data/types.js';
import { storedRun } from './support/rows.js';
import { openStore, requireRun } from '../src/store/db.js';
import Database from 'better-sqlite3';

function vocabOf(entries: Record<string, number>): EntityVocab {
  const m = new Map(Object.entries(entries));
  return { file: 'v.json', size: 100, keys: m.size, special: { mask: 2 }, get: (k) => m.get(k) };
}

function labelIndex(byUri: Record<string, Record<string, string>>): LabelIndex {
  const m = new Map(Object.entries(byUri).map(([u, ls]) => [u, new Map(Object.entries(ls))]));
  return { languages: ['ar', 'de', 'en', 'ja', 'zh'], byUri: m, labels: new Set() };
}

const tok: PieceEncoder = { encodePiece: (t) => [...t].map((c) => c.charCodeAt(0) % 50), special: { bos: 0, eos: 2, mask: 3 } };

test("the default lookup is the paper's: <lang>:<title> only; the fallback is an option", () => {
  const v = vocabOf({ 'en:Paris': 10 });
  const idx = labelIndex({ Q90: { ja: 'パリ', en: 'Paris' } });
  assert.deepEqual(entityLinker(v, idx, false)('ja', 'パリ', 'Q90'), { id: null, via: 'none' });
  assert.deepEqual(entityLinker(v, idx, true)('ja', 'パリ', 'Q90'), { id: 10, via: 'fallback', key: 'en:Paris' });
});

test('the fallback order is the query language, then English, then the others A-Z (not Arabic first)', () => {
  assert.deepEqual(fallbackOrder('ja', ['ar', 'de', 'en', 'ja', 'zh']), ['en', 'ar', 'de', 'zh']);
  assert.deepEqual(fallbackOrder('en', ['ar', 'de', 'en', 'ja']), ['ar', 'de', 'ja']);
  assert.deepEqual(fallbackOrder('ja', ['ar', 'ja']), ['ar']);
  const v = vocabOf({ 'ar:باريس': 11, 'en:Paris': 10, 'de:Paris': 12 });
  const idx = labelIndex({ Q90: { ar: 'باريس', de: 'Paris', en: 'Paris', ja: 'パリ' } });
  assert.equal(entityLinker(v, idx, true)('ja', 'パリ', 'Q90').key, 'en:Paris');
});

test('a homograph reached through the fallback is refused: two candidates with different Wikidata ids never share an entity id', () => {
  // en "quarterback" (Q622747) has no en title; its ar label وسط is the title of "centre" (Q1144479), which en has.
  const v = vocabOf({ 'en:centre': 5, 'ar:وسط': 5, 'en:guard': 6 });
  const idx = labelIndex({ Q622747: { en: 'quarterback', ar: 'وسط' }, Q1144479: { en: 'centre', ar: 'وسط' }, Q9: { en: 'wing', de: 'Flügel' } });
  const set: RelationSet = {
    language: 'en',
    relation: 'P413',
    template: { relation: 'P413', text: '[X] plays as [Y] .', source: 't', yBeforeX: false },
    candidates: [{ label: 'centre', uri: 'Q1144479' }, { label: 'quarterback', uri: 'Q622747' }, { label: 'guard' }, { label: 'wing', uri: 'Q9' }],
    goldAdded: 0,
    triples: 1,
    queries: [],
  };
  const rel = prepareRelation(set, tok, entityLinker(v, idx, true));
  const e = rel.candidates.entities;
  assert.equal(e[0].id, 5);
  assert.equal(e[0].via, 'direct');
  assert.deepEqual([e[1].id, e[1].via], [null, 'refused']);
  assert.equal(e[2].id, 6);
  assert.deepEqual(linkCounts(e), { direct: 2, fallback: 0, refused: 1, none: 1 });
  const ids = e.filter((x) => x.id !== null).map((x) => x.id);
  assert.equal(new Set(ids).size, ids.length);
});

test('run: the fallback is off by default, stored as an option, named by the report, and its counts shown', async () => {
  const ck = tinyCheckpoint(1, false, SAMPLE_DATA);
  const db = join(tempDir(), 'lookup.sqlite');
  const plain = await cli('run', '--data', SAMPLE_DATA, '--model', ck, '--languages', 'ja', '--limit', '2', '--db', db, '--name', 'plain');
  assert.equal(plain.code, 0, plain.err);
  assert.match(
    plain.out,
    /entity lookup: <lang>:<title> in the query's language \(the paper's protocol; --fallback not used\); candidate labels: \d+\/\d+ direct, \d+ without an entity/,
  );
  const fb = await cli('run', '--data', SAMPLE_DATA, '--model', ck, '--languages', 'ja', '--limit', '2', '--db', db, '--name', 'fb', '--fallback');
  assert.equal(fb.code, 0, fb.err);
  assert.match(fb.out, /then the Wikidata-id fallback .*; candidate labels: \d+\/\d+ direct, [1-9]\d* resolved by the fallback, \d+ refused as homographs/);
  const s = openStore(db, { readonly: true });
  assert.equal(requireRun(s, 'plain').options.fallback, false);
  assert.equal(requireRun(s, 'fb').options.fallback, true);
  s.db.close();
  const cov = (name: string) => storedRun(db, name).rows.filter((r) => r.style === 'entity' && r.covered).length;
  assert.ok(cov('fb') > cov('plain'), 'the fallback finds more entities');
  const rep = await cli('report', '--run', 'fb', '--db', db);
  assert.match(rep.out, /Wikidata-id fallback .* not the paper's protocol/);
  assert.match((await cli('report', '--run', 'plain', '--db', db)).out, /the paper's protocol/);
});

test('run --resume NAME of a --fallback run names the fallback it resumes with, as the stored options say', async () => {
  const ck = tinyCheckpoint(1, false, SAMPLE_DATA);
  const db = join(tempDir(), 'resume-lookup.sqlite');
  const first = await cli('run', '--data', SAMPLE_DATA, '--model', ck, '--languages', 'ja', '--limit', '2', '--db', db, '--name', 'fb', '--fallback');
  assert.equal(first.code, 0, first.err);
  const raw = new Database(db);
  raw.exec(`UPDATE runs SET status = 'interrupted'; DELETE FROM results WHERE rowid IN (SELECT rowid FROM results LIMIT 2)`);
  raw.close();
  const resumed = await cli('run', '--resume', 'fb', '--db', db);
  assert.equal(resumed.code, 0, resumed.err);
  assert.match(resumed.out, /run "fb" complete/);
  assert.match(resumed.out, /then the Wikidata-id fallback .* not the paper's protocol; candidate labels: \d+\/\d+ direct, \d+ resolved by the fallback/);
  assert.doesNotMatch(resumed.out, /--fallback not used/);
});
