// tier: full (needs Python)
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDataset } from '../src/data/mlama.js';
import { readLabelIndex } from '../src/data/labels.js';
import { loadCheckpoint } from '../src/model/checkpoint.js';
import { openSession, openWordsSession } from '../src/model/session.js';
import { timedSession } from '../src/bench/measure.js';
import { scoreQueries } from '../src/model/scorer.js';
import { languageQueries } from '../src/prompts/source.js';
import { loadStyle } from '../src/prompts/styles.js';
import { keysForLabels } from '../src/tokenize/entityLinker.js';
import { cli, SAMPLE_DATA, tempDir } from './support/cli.js';
import { readResults, requireRun, withStoreSync } from '../src/store/db.js';
import { tinyCheckpoint } from './support/fixtures.js';

// tools/export_mluke.py needs transformers to load mLUKE; its export path (graphs, shared weights file, tied tables
// left unpacked, manifest) is exercised here on a LUKE-shaped torch stub with Debian's python3-torch and
// python3-onnx (`make test` installs them when it can). Parity with transformers itself is the device issue's.
const PYTHON = '/usr/bin/python3';
const ROOT = join(import.meta.dirname, '..');
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch, onnx'], { stdio: 'ignore' }).status === 0;
const skip = !hasTorch && 'Debian python3-torch and python3-onnx are not installed (apt install python3-torch python3-onnx)';

test('an exported checkpoint loads in the harness and scores what torch computes', { skip }, async () => {
  const tiny = tinyCheckpoint(1, false, SAMPLE_DATA);
  const ds = openDataset(SAMPLE_DATA);
  const labels = readLabelIndex(ds);
  const styles = [loadStyle('word'), loadStyle('entity')];
  const source = loadCheckpoint(tiny, { entityKeys: keysForLabels(labels.labels) });
  const built = ['en', 'ja'].flatMap((l) => [
    ...languageQueries(ds, l, source.tokenizer, source.entityVocab, labels, styles, { fallback: true, limit: 2, relations: ['P19', 'P103'] }),
  ]);
  const passes = built.flatMap((b) =>
    b.passes.map((p) => ({
      key: `${b.style.name}|${b.query.key}`,
      head: b.style.head,
      ...p,
      candidateTokens: p.candidates.map((c) => b.relation.candidates.tokens[c]),
      candidateEntities: p.candidates.map((c) => b.relation.candidates.entities[c].id),
    })),
  );
  const dir = tempDir('mlama-export-');
  writeFileSync(join(dir, 'passes.json'), JSON.stringify(passes));
  const out = join(dir, 'ck');
  execFileSync(PYTHON, [join(ROOT, 'test/support/export_stub.py'), tiny, out, join(dir, 'passes.json'), join(dir, 'reference.json')], { stdio: 'pipe' });
  const reference: (number | null)[][] = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8'));
  const want = new Map<string, number>();
  passes.forEach((p, i) => p.candidates.forEach((c, j) => reference[i][j] !== null && want.set(`${p.key}|${c}`, reference[i][j]!)));

  const ck = loadCheckpoint(out, { entityKeys: keysForLabels(labels.labels) });
  const manifest = JSON.parse(readFileSync(join(out, 'mlama-checkpoint.json'), 'utf8'));
  assert.deepEqual(manifest.files.weights, ['weights.bin'], 'both graphs share one weights file');
  const graph = readFileSync(join(out, 'model.onnx'));
  assert.ok(graph.length < 200_000, 'the graph holds no weights of its own');
  const naive = await openSession(ck, 'naive', { threads: 1 });
  await naive.release();
  const session = await openSession(ck, 'gathered', { threads: 1 });
  // Word-only prompts run on the words graph (no entity inputs) when a run opens it, else on the gathered graph
  // with a masked dummy entity: both must score what torch computes.
  assert.equal(manifest.graphs.words.file, 'model.words.onnx');
  const opened = await openWordsSession(ck, styles, { threads: 1 });
  assert.ok(opened, 'a LUKE export has a words graph, and the word style opens it');
  const { session: words, clock } = timedSession(opened);
  const rebuilt = ['en', 'ja'].flatMap((l) => [
    ...languageQueries(ds, l, ck.tokenizer, ck.entityVocab, labels, styles, { fallback: true, limit: 2, relations: ['P19', 'P103'] }),
  ]);
  for (const graphs of ['gathered', 'gathered and words'])
    await (async () => {
      let compared = 0;
      let maxDiff = 0;
      const o = { padEntityId: ck.entityVocab!.special.pad!, batchSize: 5, words: graphs === 'gathered' ? undefined : words };
      for await (const batch of scoreQueries(session, rebuilt, o)) {
        for (const s of batch) {
          for (const t of s.top) {
            const w = want.get(`${s.built.style.name}|${s.built.query.key}|${t.index}`);
            if (w === undefined) continue;
            maxDiff = Math.max(maxDiff, Math.abs(w - t.score));
            compared++;
          }
        }
      }
      console.log(`# exported stub, ${graphs}: ${compared} candidate scores, onnxruntime vs torch max |diff| ${maxDiff.toExponential(2)}`);
      assert.ok(compared >= 100, `${compared} scores compared`);
      assert.ok(maxDiff < 1e-4, `max diff ${maxDiff}`);
    })();
  assert.ok(clock.runs > 0, 'the word passes ran on the words graph');
  await session.release();
  await words.release();

  // `mlama run` with word-only styles opens the words graph alone (the gathered graph is never run); its stored
  // answers equal those of a run that scores both styles with both graphs.
  const db = join(dir, 'runs.sqlite');
  const ask = ['--model', out, '--data', SAMPLE_DATA, '--languages', 'en,ja', '--relations', 'P19,P103', '--limit', '2', '--db', db];
  for (const [name, styles] of [
    ['word-only', 'word'],
    ['both', 'word,entity'],
  ])
    assert.equal((await cli('run', ...ask, '--styles', styles, '--name', name)).code, 0);
  withStoreSync(db, { readonly: true }, (store) => {
    const rows = (name: string) => readResults(store, requireRun(store, name).id).filter((r) => r.style === 'word');
    const [a, b] = [rows('word-only'), rows('both')];
    assert.ok(a.length >= 4, `${a.length} word answers`);
    assert.deepEqual(
      a.map((r) => [r.subject, r.gold_rank, r.gold_score, r.top]),
      b.map((r) => [r.subject, r.gold_rank, r.gold_score, r.top]),
    );
  });
});

test('the exporter refuses a checkpoint whose heads transformers had to initialise', { skip }, () => {
  const check = (missing: string[]) =>
    spawnSync(
      PYTHON,
      [
        '-c',
        `import importlib.util,sys; s=importlib.util.spec_from_file_location('e','tools/export_mluke.py'); e=importlib.util.module_from_spec(s); s.loader.exec_module(e)
class M: _tied_weights_keys=['lm_head.decoder.weight','lm_head.decoder.bias','entity_predictions.decoder.weight']
e.check_heads({'missing_keys': ${JSON.stringify(missing)}}, M()); print('accepted')`,
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
  const random = check(['lm_head.dense.weight', 'lm_head.bias', 'entity_predictions.transform.dense.weight']);
  assert.equal(random.status, 2);
  assert.match(random.stderr, /error: the checkpoint has no trained prediction heads .*refusing to export random heads/);
  const tiedOnly = check(['lm_head.decoder.weight', 'entity_predictions.decoder.weight']);
  assert.equal(tiedOnly.status, 0, tiedOnly.stderr);
  assert.match(tiedOnly.stdout, /accepted/);
});

test("the exporter turns LUKE's original jsonl entity vocabulary into the harness's keys", async () => {
  const dir = tempDir('mlama-ev-');
  const jsonl = [
    { id: 0, entities: [['[PAD]', null]] },
    { id: 1, entities: [['[UNK]', null]] },
    { id: 2, entities: [['[MASK]', null]] },
    {
      id: 3,
      entities: [
        ['Tokyo', 'en'],
        ['東京', 'ja'],
      ],
    },
    { id: 4, entities: [['Japanese', 'en']] },
  ];
  writeFileSync(join(dir, 'entity_vocab.jsonl'), jsonl.map((j) => JSON.stringify(j)).join('\n') + '\n');
  const r = spawnSync(
    PYTHON,
    [
      '-c',
      `import importlib.util; s=importlib.util.spec_from_file_location('e','tools/export_mluke.py'); e=importlib.util.module_from_spec(s); s.loader.exec_module(e)
e.write_entity_vocab(e.read_entity_vocab(${JSON.stringify(join(dir, 'entity_vocab.jsonl'))}, None), 6, ${JSON.stringify(dir)})`,
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const { loadEntityVocab } = await import('../src/tokenize/entityVocab.js');
  const v = loadEntityVocab(join(dir, 'entity_vocab.json'));
  assert.equal(v.size, 6);
  assert.equal(v.get('ja:東京'), 3);
  assert.equal(v.get('en:Tokyo'), 3);
  assert.deepEqual([v.special.pad, v.special.unk, v.special.mask, v.special.mask2], [0, 1, 2, 5], "[MASK2] appended, as mLUKE's conversion does");
  const wrongSize = spawnSync(
    PYTHON,
    [
      '-c',
      `import importlib.util; s=importlib.util.spec_from_file_location('e','tools/export_mluke.py'); e=importlib.util.module_from_spec(s); s.loader.exec_module(e)
e.write_entity_vocab(e.read_entity_vocab(${JSON.stringify(join(dir, 'entity_vocab.jsonl'))}, None), 9, ${JSON.stringify(dir)})`,
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  assert.equal(wrongSize.status, 2);
  assert.match(wrongSize.stderr, /error: entity vocabulary has \d+ ids but config entity_vocab_size is 9/);
});
