import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { openDataset, readLanguage } from '../src/data/mlama.js';
import type { RelationSet } from '../src/data/types.js';
import { crossLingual } from '../src/report/crosslingual.js';
import { aggregate, METRICS } from '../src/report/metrics.js';
import { datasetFingerprint } from '../src/run/fingerprint.js';
import { cli, SAMPLE_DATA, tempDir } from './support/cli.js';
import { makeOfficialLayout } from './support/officialLayout.js';
import { storedRun } from './support/rows.js';

const official = () => makeOfficialLayout(tempDir());
const TREX = ['P103', 'P19', 'P36', 'P1412', 'P30'];

/** What a run asks of a relation set, without where its template was read (the paths differ by layout). */
const asked = (sets: RelationSet[]) => sets.map((s) => ({ ...s, template: { ...s.template, source: undefined }, source: undefined, withoutIds: undefined }));

test('both entry points of the official layout open: language folders in mlama1.1/, candidate folders in data/', () => {
  const o = official();
  for (const entry of [o.data, o.release, `${o.release}/`]) {
    const ds = openDataset(entry);
    assert.deepEqual(ds.languages, ['ar', 'en', 'ja', 'zh']);
    assert.equal(resolve(ds.root), o.release);
    assert.equal(resolve(ds.candidateRoot), o.data);
  }
  const flat = openDataset(SAMPLE_DATA);
  assert.equal(flat.root, flat.candidateRoot);
});

test('the official layout asks the same TREx queries, candidates and golds as the flat sample, from both entry points', () => {
  const o = official();
  for (const lang of ['en', 'ja', 'ar', 'zh']) {
    const flat = asked([...readLanguage(openDataset(SAMPLE_DATA), lang)]);
    for (const entry of [o.data, o.release]) {
      const sets = [...readLanguage(openDataset(entry), lang)];
      assert.deepEqual(asked(sets.filter((s) => TREX.includes(s.relation))), flat, `${lang} from ${entry}`);
      assert.ok(sets.filter((s) => TREX.includes(s.relation)).every((s) => s.source === 'TREx' && s.withoutIds === 0));
    }
  }
});

test('GoogleRE relations are read: labels without Wikidata ids, extra fields ignored, repeated year candidates kept once with their count', () => {
  const ds = openDataset(official().data);
  const sets = new Map([...readLanguage(ds, 'en')].map((s) => [s.relation, s]));
  const born = sets.get('place_of_birth')!;
  assert.equal(born.source, 'GoogleRE');
  assert.equal(born.triples, 12);
  assert.equal(born.withoutIds, 12);
  assert.ok(born.queries.every((q) => q.subjectUri === undefined && q.golds.every((g) => g.uri === undefined)));
  assert.equal(born.template.text, '[X] was born in [Y] .');
  const date = sets.get('date_of_birth')!;
  const file = JSON.parse(readFileSync(join(ds.candidateRoot, 'GoogleRE_objects', 'en.json'), 'utf8')).date_of_birth.objects as string[];
  assert.ok(new Set(file).size < file.length, 'the fixture repeats a year');
  assert.equal(date.candidates.length, new Set(file).size);
  assert.ok(date.candidates.every((c) => /^\d{4}$/.test(c.label)));
  assert.equal(date.goldAdded, 0);
  // Ranked once, but each keeps how often the file lists it: the authors' script ranks every copy.
  for (const c of date.candidates) assert.equal(c.copies ?? 1, file.filter((y) => y === c.label).length, c.label);
  assert.ok(date.candidates.some((c) => c.copies === 2));
});

test('a triple line with ids on some lines only: the ids it has are kept, and only the lines without count', () => {
  const o = official();
  const file = join(o.release, 'en', 'place_of_birth.jsonl');
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  lines[0] = JSON.stringify({ ...JSON.parse(lines[0]), sub_uri: 'Q1036275', obj_uri: null, evidences: [{ a: 1 }] });
  writeFileSync(file, lines.join('\n') + '\n');
  const [set] = [...readLanguage(openDataset(o.data), 'en', { relations: ['place_of_birth'] })];
  assert.equal(set.queries[0].subjectUri, 'Q1036275');
  assert.equal(set.withoutIds, 12, 'a line with a subject id but no object id still lacks an id');
  writeFileSync(file, [JSON.stringify({ ...JSON.parse(lines[0]), obj_uri: 7 }), ...lines.slice(1)].join('\n') + '\n');
  assert.throws(
    () => [...readLanguage(openDataset(o.data), 'en', { relations: ['place_of_birth'] })],
    /place_of_birth\.jsonl:1: field "obj_uri" must be a string/,
  );
});

test('both entry points fingerprint alike, and the fingerprint covers the candidate files one level up', () => {
  const o = official();
  const a = datasetFingerprint(openDataset(o.data), ['en', 'ja']);
  assert.deepEqual(datasetFingerprint(openDataset(o.release), ['en', 'ja']), a);
  appendFileSync(join(o.data, 'GoogleRE_objects', 'en.json'), '\n');
  const b = datasetFingerprint(openDataset(o.release), ['en', 'ja']);
  assert.notEqual(b.en, a.en);
  assert.equal(b.ja, a.ja);
});

async function expectError(dir: string, pattern: RegExp) {
  const r = await cli('data', 'check', dir);
  assert.equal(r.code, 2, `exit code for ${pattern}: ${r.err}`);
  assert.match(r.err, pattern);
  assert.equal(r.err.trim().split('\n').length, 1, `one line: ${r.err}`);
}

test('errors name the folder searched and what was expected there', async () => {
  const empty = tempDir();
  await expectError(
    empty,
    new RegExp(`${empty}: no language directories with templates.jsonl, here or in ${empty}/mlama1.1 \\(expected <lang>/templates.jsonl`),
  );
  const o = official();
  await expectError(join(o.data, '..'), /pass that folder/);
  unlinkSync(join(o.data, 'GoogleRE_objects', 'ja.json'));
  await expectError(
    o.release,
    new RegExp(`ja/date_of_birth: no candidate set in ${o.data}/TREx_multilingual_objects/ja.json or ${o.data}/GoogleRE_objects/ja.json`),
  );
  for (const d of ['TREx_multilingual_objects', 'GoogleRE_objects']) renameSync(join(o.data, d), join(o.data, `${d}.old`));
  await expectError(
    o.release,
    new RegExp(`ar/date_of_birth: no candidate set in .* \\(no TREx_multilingual_objects/ or GoogleRE_objects/ folder in ${o.release} or ${o.data}\\)`),
  );
  renameSync(o.release, join(o.data, 'elsewhere'));
  await expectError(o.data, new RegExp(`${o.data}: no language directories with templates.jsonl, here or in ${o.data}/mlama1.1`));
});

test('data check says what a run would see, in text and JSON, from both entry points', async () => {
  const o = official();
  // As in the release, where some languages have GoogleRE candidate sets but no file of that relation.
  unlinkSync(join(o.release, 'ar', 'date_of_birth.jsonl'));
  const r = await cli('data', 'check', o.data);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /language folders in .*mlama1\.1, candidate sets in /);
  assert.match(r.out, /GoogleRE relations: place_of_birth \(4 of 4 languages\), date_of_birth \(3 of 4 languages\)/);
  assert.match(r.out, /ignored, template without a relation file: ar date_of_birth\n/);
  assert.match(r.out, /ignored, candidate set without a relation file: ar date_of_birth\n/);
  assert.match(r.out, /date relations \(skipped in mLAMA's macro average\): date_of_birth/);
  assert.match(r.out, /\[Y\]-before-\[X\] templates: ar P103 P36 P1412; ja P103 P36 P1412; zh P36/);
  assert.match(r.out, /triples without Wikidata ids: 84 /);
  assert.match(
    r.out,
    /ignored: templates field "label" \(8\), triples field "uuid" \(84\), triples field "from_english" \(48\), candidates field "subjects" \(8\)/,
  );
  assert.match(r.out, /usable: 4 languages, 7 relations, 1280 queries/);
  const j = await cli('data', 'check', o.release, '--format', 'json', '--languages', 'zh');
  assert.equal(j.code, 0, j.err);
  const json = JSON.parse(j.out);
  assert.equal(json.usable, true);
  const [zh] = json.languages;
  assert.deepEqual([zh.trex.length, zh.googlere.sort(), zh.triples, zh.candidate_sets], [5, ['date_of_birth', 'place_of_birth'], 324, 7]);
  assert.equal(zh.golds_missing, 35);
  assert.deepEqual(json.date_relations, ['date_of_birth']);
  const flat = await cli('data', 'check', SAMPLE_DATA, '--format', 'json', '--languages', 'zh');
  assert.equal(JSON.parse(flat.out).languages[0].queries + 2 * 12, zh.queries, 'the flat sample plus the two GoogleRE relations');
});

test('data check: a folder with nothing to ask, or a file a run would refuse, is exit 2 with one line', async () => {
  const d = join(tempDir(), 'flat');
  mkdirSync(join(d, 'en'), { recursive: true });
  writeFileSync(join(d, 'en', 'templates.jsonl'), `${JSON.stringify({ relation: 'P19', template: '[X] was born in [Y] .' })}\n`);
  await expectError(d, /nothing a run could ask: no relation has a template, triples and a candidate set in en/);
  const o = official();
  appendFileSync(join(o.release, 'ar', 'date_of_birth.jsonl'), '{"sub_label": "x", oops\n');
  await expectError(o.data, /ar\/date_of_birth\.jsonl:13: malformed JSON/);
});

test('mlama run over the official layout stores the same answers as over the flat sample, from both entry points, and runs GoogleRE', async () => {
  const ck = join(import.meta.dirname, '../datasets/known-answer');
  const o = official();
  const db = join(tempDir(), 'r.sqlite');
  const args = ['--model', ck, '--styles', 'word', '--languages', 'en,ja', '--limit', '4', '--db', db, '--threads', '1'];
  const runs: Record<string, string> = { flat: SAMPLE_DATA, data: o.data, release: o.release };
  for (const [name, data] of Object.entries(runs)) {
    const rel = name === 'flat' ? TREX : [...TREX, 'place_of_birth', 'date_of_birth'];
    const r = await cli('run', ...args, '--data', data, '--name', name, '--relations', rel.join(','));
    assert.equal(r.code, 0, r.err);
  }
  const key = (r: { language: string; relation: string; subject: string; top: { label: string }[]; gold_rank: number }) =>
    `${r.language}|${r.relation}|${r.subject}|${r.top[0]?.label}|${r.gold_rank}`;
  const flat = storedRun(db, 'flat').rows.map(key).sort();
  for (const name of ['data', 'release']) {
    const rows = storedRun(db, name).rows;
    assert.deepEqual(
      rows
        .filter((r) => TREX.includes(r.relation))
        .map(key)
        .sort(),
      flat,
      name,
    );
    const google = rows.filter((r) => !TREX.includes(r.relation));
    assert.equal(google.length, 2 * 2 * 4, `${name}: GoogleRE answers`);
    assert.ok(google.every((r) => r.sub_uri === null));
    assert.equal(crossLingual(rows).without_ids, google.length, 'cross-lingual agreement says how many answers it left out');
    // mLAMA's macro average skips date_of_birth: the answers to it change nothing.
    const macro = METRICS.find((m) => m.aggregate === 'relation-macro')!;
    const en = rows.filter((r) => r.language === 'en');
    assert.ok(en.some((r) => r.relation === 'date_of_birth'));
    assert.equal(
      aggregate(macro, en),
      aggregate(
        macro,
        en.filter((r) => r.relation !== 'date_of_birth'),
      ),
    );
  }
});

test('known-answer over the official layout counts GoogleRE answers apart, as answers without ids, not as lineids the data lacks', async () => {
  const ck = join(import.meta.dirname, '../datasets/known-answer');
  const o = official();
  const db = join(tempDir(), 'r.sqlite');
  const relations = [...TREX, 'place_of_birth', 'date_of_birth'].join(',');
  const args = ['--model', ck, '--styles', 'word', '--languages', 'en,ja', '--limit', '4', '--relations', relations, '--threads', '1'];
  assert.equal((await cli('run', ...args, '--data', o.data, '--db', db, '--name', 'k')).code, 0);
  const k = await cli('known-answer', '--run', 'k', '--facts', join(ck, 'training-facts.jsonl'), '--data', o.data, '--db', db, '--format', 'json');
  assert.equal(k.code, 0, k.err);
  const report = JSON.parse(k.out);
  // 2 languages x 2 GoogleRE relations x 4 subjects, one style.
  assert.deepEqual([report.without_ids, report.unmatched], [16, 0]);
  assert.equal(k.err, 'note: 16 answers without ids (GoogleRE) left out: their lines name no Wikidata subject, which training facts are keyed by\n');
});

test('tools/make-official-layout.ts DIR writes DIR/data, which data check finds usable', async () => {
  const dir = tempDir();
  const root = join(import.meta.dirname, '..');
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'tools/make-official-layout.ts', dir], { cwd: root, encoding: 'utf8' });
  assert.equal(out.trim(), join(dir, 'data'));
  const r = await cli('data', 'check', join(dir, 'data'), '--format', 'json');
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(JSON.parse(r.out).date_relations, ['date_of_birth']);
  assert.throws(
    () => execFileSync(process.execPath, ['--import', 'tsx', 'tools/make-official-layout.ts', dir], { cwd: root, stdio: 'pipe' }),
    /already exists/,
  );
});
