// tier: full (needs Python)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BUNDLED_WORDPIECE } from '../src/checkpoint-gen/generate.js';
import { loadCheckpoint } from '../src/model/checkpoint.js';
import { CONTRACT } from '../src/model/contract.js';
import { FAMILIES } from '../src/model/families/index.js';
import { expectedGraph } from '../src/model/checkpoint.js';
import { tokenizerCorpus } from '../tools/corpus.js';
import { cli, SAMPLE_DATA, tempDir } from './support/cli.js';

// tools/export_mluke.py's word-only branches on tiny random BertForMaskedLM and XLMRobertaForMaskedLM built with
// transformers (make python-env): the family comes from model_type, the graphs follow the contract, parity with
// torch is printed as a "<family> max_abs=" line, and the harness runs the exported checkpoint.
const ROOT = join(import.meta.dirname, '..');
const PYTHON = join(ROOT, '.venv', 'bin', 'python');
const hasTransformers = spawnSync(PYTHON, ['-c', 'import transformers, torch, onnx, onnxruntime, sentencepiece'], { stdio: 'ignore' }).status === 0;
const skip = !hasTransformers && 'the Python environment is missing (make python-env)';

test('the exporter writes BERT and XLM-R checkpoints the harness loads and runs, within the parity tolerance', { skip }, async () => {
  const dir = tempDir('mlama-wordfam-');
  const corpus = join(dir, 'corpus.txt');
  writeFileSync(corpus, tokenizerCorpus(SAMPLE_DATA).join('\n') + '\n');
  const made = spawnSync(PYTHON, [join(ROOT, 'test/support/make_word_models.py'), BUNDLED_WORDPIECE, corpus, dir], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  for (const family of ['bert', 'xlmr'] as const) {
    const out = join(dir, `${family}-ck`);
    const r = spawnSync(PYTHON, [join(ROOT, 'tools/export_mluke.py'), join(dir, family), out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const m = /^(\w+) max_abs=(\S+) /m.exec(r.stdout);
    const last = m?.[0] ?? r.stdout;
    assert.ok(m, last);
    assert.equal(m[1], family);
    assert.ok(Number(m[2]) < 1e-3, last);
    console.log(`# ${last}`);
    const manifest = JSON.parse(readFileSync(join(out, CONTRACT.manifest), 'utf8'));
    assert.equal(manifest.family, family);
    for (const v of ['gathered', 'naive'] as const)
      assert.deepEqual(manifest.graphs[v], expectedGraph(v, FAMILIES[family]), `the exporter and the harness agree on the ${v} graph`);
    const ck = loadCheckpoint(out);
    assert.equal(ck.family.name, family);
    if (family === 'bert')
      assert.deepEqual(
        JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8')).model.vocab,
        JSON.parse(readFileSync(BUNDLED_WORDPIECE, 'utf8')).model.vocab,
      );
    const db = join(dir, `${family}.sqlite`);
    const run = await cli('run', '--model', out, '--data', SAMPLE_DATA, '--styles', 'word', '--limit', '3', '--name', family, '--db', db, '--threads', '1');
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, new RegExp(`run "${family}" complete: (\\d+)/\\1 answers stored`));
    const refused = await cli('run', '--model', out, '--data', SAMPLE_DATA, '--styles', 'entity', '--name', `${family}-e`, '--db', db);
    assert.equal(refused.err, `error: style "entity" cannot run: ${out}: family ${family} has no entity head (it serves: word)\n`);
  }
});

test('every graph the exporter writes is the one src/model/families expects, for each family', { skip }, () => {
  const r = spawnSync(
    PYTHON,
    [
      '-c',
      `import importlib.util, json; s=importlib.util.spec_from_file_location('e','tools/export_mluke.py'); e=importlib.util.module_from_spec(s); s.loader.exec_module(e)
c=e.load_contract(); print(json.dumps({f: e.graph_spec(c, f) for f in e.FAMILIES}))`,
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const specs = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(specs), Object.keys(FAMILIES));
  for (const [name, family] of Object.entries(FAMILIES)) {
    for (const v of ['gathered', 'naive'] as const) assert.deepEqual(specs[name][v], expectedGraph(v, family), `${name} ${v}`);
  }
});
