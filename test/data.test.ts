// tier: full (needs ../shared)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync, copyFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDataset, readLanguage } from '../src/data/mlama.js';
import { languageStats } from '../src/data/stats.js';
import { cli, SHARED_DATA, sampleCopy } from './support/cli.js';

test('counts match the shared mLAMA files for en, ja and zh', () => {
  const ds = openDataset(SHARED_DATA);
  const en = languageStats(ds, 'en');
  assert.deepEqual([en.relations, en.triples, en.queries], [41, 34032, 31474]);
  const ja = languageStats(ds, 'ja');
  assert.deepEqual([ja.relations, ja.triples, ja.queries], [38, 21876, 19603]);
  assert.ok(ja.y_before_x_templates >= 5, `ja has [Y]-before-[X] templates, got ${ja.y_before_x_templates}`);
  const zh = languageStats(ds, 'zh');
  assert.deepEqual([zh.relations, zh.triples], [38, 9758]);
});

test('every gold object is a candidate, and the additions are counted', () => {
  const ds = openDataset(SHARED_DATA);
  let added = 0;
  for (const set of readLanguage(ds, 'zh')) {
    const labels = new Set(set.candidates.map((c) => c.label));
    assert.equal(labels.size, set.candidates.length, 'candidates are unique');
    for (const q of set.queries) for (const g of q.golds) assert.ok(labels.has(g.label), `${set.relation} gold ${g.label}`);
    added += set.goldAdded;
  }
  assert.ok(added > 500, `zh needs many added golds (labels differ in script), got ${added}`);
});

test('N-M relations keep every gold object and lineid on one query', () => {
  const ds = openDataset(SHARED_DATA);
  const [p1412] = [...readLanguage(ds, 'en', { relations: ['P1412'] })];
  const multi = p1412.queries.filter((q) => q.golds.length > 1);
  assert.ok(multi.length > 0);
  for (const q of multi) assert.ok(q.lineids.length >= q.golds.length);
  const triples = p1412.queries.reduce((n, q) => n + q.lineids.length, 0);
  assert.equal(triples, p1412.triples);
});

test('data stats --format json reports per-language counts', async () => {
  const r = await cli('data', 'stats', '--data', SHARED_DATA, '--languages', 'ja', '--format', 'json');
  assert.equal(r.code, 0, r.err);
  const json = JSON.parse(r.out);
  assert.equal(json.languages[0].queries, 19603);
  assert.equal(json.languages[0].y_before_x_templates, 6);
});

async function expectError(dir: string, pattern: RegExp, ...extra: string[]) {
  const r = await cli('data', 'stats', '--data', dir, ...extra);
  assert.equal(r.code, 2, `exit code for ${pattern}: ${r.err}`);
  assert.match(r.err, pattern);
  assert.equal(r.err.trim().split('\n').length, 1, `one line: ${r.err}`);
}

test('malformed JSON line names file and line', async () => {
  const d = sampleCopy();
  appendFileSync(join(d, 'en', 'P19.jsonl'), '{"sub_uri": "Q1", oops\n');
  await expectError(d, /en\/P19\.jsonl:61: malformed JSON/);
});

test('missing field names file, line and field', async () => {
  const d = sampleCopy();
  const f = join(d, 'ja', 'P36.jsonl');
  const lines = readFileSync(f, 'utf8').split('\n');
  lines[2] = lines[2].replace(/"obj_label":\s*"[^"]*",\s*/, '');
  writeFileSync(f, lines.join('\n'));
  await expectError(d, /ja\/P36\.jsonl:3: missing field "obj_label"/);
});

test('template without [X] or with two [Y] is refused with its line', async () => {
  const d = sampleCopy();
  const f = join(d, 'ar', 'templates.jsonl');
  const lines = readFileSync(f, 'utf8').split('\n');
  lines[1] = JSON.stringify({ relation: 'P19', template: 'born in [Y]' });
  writeFileSync(f, lines.join('\n'));
  await expectError(d, /ar\/templates\.jsonl:2: template must contain exactly one \[X\] and one \[Y\] \(found 0 and 1\)/);
  lines[1] = JSON.stringify({ relation: 'P19', template: '[X] [Y] born in [Y]' });
  writeFileSync(f, lines.join('\n'));
  await expectError(d, /found 1 and 2/);
});

test('relation file without a template is a warning and a count, not a crash', async () => {
  const d = sampleCopy();
  copyFileSync(join(d, 'en', 'P19.jsonl'), join(d, 'en', 'P20.jsonl'));
  const r = await cli('data', 'stats', '--data', d, '--languages', 'en', '--format', 'json');
  assert.equal(r.code, 0);
  assert.match(r.err, /warning: .*en\/P20\.jsonl: no template for P20/);
  const s = JSON.parse(r.out).languages[0];
  assert.equal(s.relations_without_template, 1);
  assert.equal(s.relations, 5);
});

test('unknown language lists the available ones', async () => {
  await expectError(sampleCopy(), /unknown language "xx" .* available: ar, en, ja, zh/, '--languages', 'xx');
});

test('empty candidate set names the file and field', async () => {
  const d = sampleCopy();
  const f = join(d, 'TREx_multilingual_objects', 'zh.json');
  const json = JSON.parse(readFileSync(f, 'utf8'));
  json.P30.objects = [];
  writeFileSync(f, JSON.stringify(json));
  await expectError(d, /zh\.json: field "P30\.objects" is an empty candidate set/);
  unlinkSync(f);
  await expectError(d, /zh\/P19: no candidate set/);
});

test('the reader streams: all 10 languages stay well under 1 GiB', () => {
  const script = `
    import { openDataset, readLanguage } from './src/data/mlama.ts';
    const ds = openDataset(${JSON.stringify(SHARED_DATA)});
    let q = 0;
    for (const l of ds.languages) for (const s of readLanguage(ds, l)) q += s.queries.length;
    console.log(JSON.stringify({ queries: q, maxRssMb: process.resourceUsage().maxRSS / 1024 }));`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: join(import.meta.dirname, '..'),
    encoding: 'utf8',
  });
  const { queries, maxRssMb } = JSON.parse(out.trim().split('\n').pop()!);
  console.log(`# reading all 10 languages (${queries} queries): peak RSS ${maxRssMb.toFixed(0)} MB`);
  assert.ok(queries > 180000);
  assert.ok(maxRssMb < 512, `peak RSS ${maxRssMb} MB`);
});

test('labels are NFC-normalised on reading: the NFD and NFC spellings of one label are one candidate and one query', () => {
  const d = sampleCopy();
  const nfc = 'Québec';
  const nfd = nfc.normalize('NFD');
  assert.notEqual(nfc, nfd);
  const cands = JSON.parse(readFileSync(join(d, 'TREx_multilingual_objects', 'en.json'), 'utf8'));
  cands.P19.objects.push(nfc);
  writeFileSync(join(d, 'TREx_multilingual_objects', 'en.json'), JSON.stringify(cands));
  appendFileSync(
    join(d, 'en', 'P19.jsonl'),
    [
      JSON.stringify({ sub_uri: 'Q900001', obj_uri: 'Q176', sub_label: `Jean ${nfd}`, obj_label: nfd, lineid: 900001 }),
      JSON.stringify({ sub_uri: 'Q900001', obj_uri: 'Q176', sub_label: `Jean ${nfc}`, obj_label: nfc, lineid: 900002 }),
    ].join('\n') + '\n',
  );
  const [p19] = [...readLanguage(openDataset(d), 'en', { relations: ['P19'] })];
  assert.equal(p19.candidates.filter((c) => c.label.normalize('NFC') === nfc).length, 1);
  assert.ok(p19.candidates.every((c) => c.label === c.label.normalize('NFC')));
  const q = p19.queries.filter((x) => x.subject.normalize('NFC') === `Jean ${nfc}`);
  assert.equal(q.length, 1);
  assert.deepEqual(q[0].lineids, [900001, 900002]);
});

test('data check on the shared copy: 10 languages, TREx only, every query a run would ask', async () => {
  const r = await cli('data', 'check', SHARED_DATA, '--format', 'json');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.languages.length, 10);
  assert.equal(
    j.languages.reduce((n: number, l: { queries: number }) => n + l.queries, 0),
    189730,
  );
  assert.ok(j.languages.every((l: { googlere: string[]; triples_without_ids: number }) => l.googlere.length === 0 && l.triples_without_ids === 0));
  const ja = j.languages.find((l: { language: string }) => l.language === 'ja');
  assert.deepEqual([ja.trex.length, ja.triples, ja.queries, ja.y_before_x_templates.length], [38, 21876, 19603, 6]);
  assert.equal(j.candidate_folder, j.language_folders);
  assert.deepEqual(j.ignored, { fields: { 'candidates field "subjects"': 410 }, blank_lines: 0 });
});
