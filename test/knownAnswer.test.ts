import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { KnownAnswerSummary } from '../src/report/knownAnswer.js';
import { cli, SAMPLE_DATA, sampleCopy, tempDir } from './support/cli.js';
import { storedRun } from './support/rows.js';

// The committed checkpoint trained by `make known-answer` (tools/known_answer.py) on part of the sample's facts.
const CK = join(import.meta.dirname, '../datasets/known-answer');
const FACTS = join(CK, 'training-facts.jsonl');

async function evaluateCheckpoint(data: string, db: string, name: string): Promise<{ summary: KnownAnswerSummary; out: string }> {
  const r = await cli('run', '--model', CK, '--data', data, '--styles', 'word,entity', '--name', name, '--db', db, '--threads', '1');
  assert.equal(r.code, 0, r.err);
  const k = await cli('known-answer', '--run', name, '--facts', FACTS, '--data', data, '--db', db, '--format', 'json');
  assert.equal(k.code, 0, k.err);
  return { summary: JSON.parse(k.out).summary, out: k.out };
}

test('the harness finds what the known-answer checkpoint was trained on, and nothing it was not', async () => {
  const db = join(tempDir(), 'r.sqlite');
  const { summary: s } = await evaluateCheckpoint(SAMPLE_DATA, db, 'known');
  assert.ok(s.trained_p1_word >= 0.8, `trained word P@1 ${s.trained_p1_word}`);
  assert.ok(s.trained_p1_entity >= 0.8, `trained entity P@1 ${s.trained_p1_entity}`);
  assert.ok(s.heldout_p1_word <= s.baseline_p1 + 0.05, `held-out word P@1 ${s.heldout_p1_word} vs baseline ${s.baseline_p1}`);
  assert.ok(s.heldout_p1_entity <= s.baseline_p1 + 0.05, `held-out entity P@1 ${s.heldout_p1_entity} vs baseline ${s.baseline_p1}`);
  const checked = await cli('known-answer', '--run', 'known', '--facts', FACTS, '--data', SAMPLE_DATA, '--db', db, '--check');
  assert.equal(checked.code, 0, checked.out + checked.err);
  const last = checked.out.trimEnd().split('\n').at(-1)!;
  assert.match(last, /^known-answer: trained_p1_word=[\d.]+ trained_p1_entity=[\d.]+ heldout_p1_word=[\d.]+ heldout_p1_entity=[\d.]+ baseline_p1=[\d.]+$/);
  assert.equal(last, `known-answer: trained_p1_word=${s.trained_p1_word.toFixed(3)} trained_p1_entity=${s.trained_p1_entity.toFixed(3)} heldout_p1_word=${s.heldout_p1_word.toFixed(3)} heldout_p1_entity=${s.heldout_p1_entity.toFixed(3)} baseline_p1=${s.baseline_p1.toFixed(3)}`);

  // Evaluated again into a fresh database (as from a fresh clone), every stored answer is identical, scores included.
  const db2 = join(tempDir(), 'r.sqlite');
  await evaluateCheckpoint(SAMPLE_DATA, db2, 'known');
  const a = storedRun(db, 'known').rows;
  const b = storedRun(db2, 'known').rows;
  assert.equal(a.length, 2392);
  assert.deepEqual(b, a);
});

test('mislabelled gold objects (shuffled within each relation) make the trained facts look unknown', async () => {
  // Each triple gets the object of the triple 7 lines further on: subjects and lineids stay, the golds are wrong.
  const data = sampleCopy();
  for (const lang of ['ar', 'en', 'ja', 'zh']) {
    for (const rel of ['P103', 'P1412', 'P19', 'P30', 'P36']) {
      const file = join(data, lang, `${rel}.jsonl`);
      const lines = readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
      const moved = lines.map((t, i) => ({ ...t, obj_uri: lines[(i + 7) % lines.length].obj_uri, obj_label: lines[(i + 7) % lines.length].obj_label }));
      writeFileSync(file, moved.map((t) => JSON.stringify(t)).join('\n') + '\n');
    }
  }
  const { summary: s } = await evaluateCheckpoint(data, join(tempDir(), 'r.sqlite'), 'shuffled');
  assert.ok(s.trained_p1_word < 0.4, `trained word P@1 ${s.trained_p1_word} with shuffled golds`);
  assert.ok(s.trained_p1_entity < 0.4, `trained entity P@1 ${s.trained_p1_entity} with shuffled golds`);
});

test('an entity vocabulary read one id off makes the entity style lose the trained facts, and only it', async () => {
  // A copy of the checkpoint whose entity_vocab.json maps every title to the next entity's id (specials kept):
  // what a lookup that is off by one would feed the model.
  const ck = join(tempDir(), 'ck');
  cpSync(CK, ck, { recursive: true });
  const vocab = JSON.parse(readFileSync(join(ck, 'entity_vocab.json'), 'utf8')) as Record<string, number>;
  const special = new Set(['[PAD]', '[UNK]', '[MASK]', '[MASK2]']);
  const ids = [...new Set(Object.entries(vocab).filter(([k]) => !special.has(k)).map(([, v]) => v))].sort((a, b) => a - b);
  const next = new Map(ids.map((id, i) => [id, ids[(i + 1) % ids.length]]));
  for (const k of Object.keys(vocab)) if (!special.has(k)) vocab[k] = next.get(vocab[k])!;
  writeFileSync(join(ck, 'entity_vocab.json'), JSON.stringify(vocab));
  const db = join(tempDir(), 'r.sqlite');
  const r = await cli('run', '--model', ck, '--data', SAMPLE_DATA, '--styles', 'word,entity', '--name', 'off', '--db', db, '--threads', '1');
  assert.equal(r.code, 0, r.err);
  const k = await cli('known-answer', '--run', 'off', '--facts', FACTS, '--data', SAMPLE_DATA, '--db', db, '--format', 'json', '--check');
  assert.equal(k.code, 1, k.err);
  const s: KnownAnswerSummary = JSON.parse(k.out).summary;
  assert.ok(s.trained_p1_entity < 0.2, `trained entity P@1 ${s.trained_p1_entity} with entity ids off by one`);
  assert.ok(s.trained_p1_word >= 0.8, `trained word P@1 ${s.trained_p1_word}: the word style does not read entities`);
});
