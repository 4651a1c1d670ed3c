// tier: full (needs Python)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { test } from 'node:test';
import { BUNDLED_WORDPIECE } from '../src/checkpoint-gen/generate.js';
import { loadCheckpoint } from '../src/model/checkpoint.js';
import { CONTRACT } from '../src/model/contract.js';
import { FAMILY_NAMES } from '../src/model/families/index.js';
import { tokenizerCorpus } from '../tools/corpus.js';
import { cli, SAMPLE_DATA, tempDir } from './support/cli.js';

// `mlama export SRC OUT` on directories written by save_pretrained (tiny random LukeForMaskedLM + MLukeTokenizer,
// XLMRobertaForMaskedLM + XLMRobertaTokenizer, BertForMaskedLM + BertTokenizer), and every input it refuses in
// one line. The exporter runs in the checkout's .venv (make python-env).
const ROOT = join(import.meta.dirname, '..');
const PYTHON = join(ROOT, '.venv', 'bin', 'python');
const hasEnv = spawnSync(PYTHON, ['-c', 'import transformers, torch, onnx, onnxruntime, sentencepiece'], { stdio: 'ignore' }).status === 0;
const skip = !hasEnv && 'the Python environment is missing (make python-env)';

let made: string | undefined;
/** The three hub-style directories, built once per file. */
function hubDirs(): string {
  if (made) return made;
  const dir = tempDir('mlama-hub-');
  writeFileSync(join(dir, 'corpus.txt'), tokenizerCorpus(SAMPLE_DATA).join('\n') + '\n');
  const r = spawnSync(PYTHON, [join(ROOT, 'test/support/make_word_models.py'), BUNDLED_WORDPIECE, join(dir, 'corpus.txt'), dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  made = dir;
  return dir;
}

const hidden = (out: string) => readdirSync(dirname(out)).filter((f) => f.startsWith(`.${basename(out)}.`));

test('mlama export refuses bad sources in one line naming the file or field', { skip }, async () => {
  const hub = hubDirs();
  const dir = tempDir('mlama-badexport-');
  const copy = (name: string, edit: (d: string) => void) => {
    const d = join(dir, name);
    cpSync(join(hub, 'xlmr'), d, { recursive: true });
    edit(d);
    return d;
  };
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  const cases: [string, string, string][] = [
    ['a missing source', join(dir, 'nope'), `${join(dir, 'nope')}: no such directory`],
    [
      'an empty folder named empty (no model type guessed from the name)',
      empty,
      `${join(empty, 'config.json')}: missing (not a directory written by save_pretrained)`,
    ],
    [
      'a malformed config.json',
      copy('badjson', (d) => writeFileSync(join(d, 'config.json'), '{"model_type": "xlm-roberta",')),
      `${join(dir, 'badjson', 'config.json')}: not valid JSON`,
    ],
    [
      'a config.json without model_type',
      copy('notype', (d) => writeFileSync(join(d, 'config.json'), '{"vocab_size": 5}')),
      `${join(dir, 'notype', 'config.json')}: no model_type field`,
    ],
    [
      'an unknown model_type',
      copy('gpt', (d) => writeFileSync(join(d, 'config.json'), '{"model_type": "gpt2"}')),
      `${join(dir, 'gpt', 'config.json')}: model_type 'gpt2' is not a family`,
    ],
    [
      'no weights',
      copy('noweights', (d) => spawnSync('rm', [join(d, 'model.safetensors')])),
      `${join(dir, 'noweights')}: no weights (model.safetensors or pytorch_model.bin)`,
    ],
    [
      'no sentencepiece.bpe.model',
      copy('nospm', (d) => spawnSync('rm', [join(d, 'sentencepiece.bpe.model')])),
      `${join(dir, 'nospm', 'sentencepiece.bpe.model')}: missing`,
    ],
    [
      'an mlama checkpoint',
      join(ROOT, 'datasets', 'known-answer'),
      `${join(ROOT, 'datasets', 'known-answer')}: an mlama checkpoint (mlama-checkpoint.json), already exported`,
    ],
  ];
  for (const [what, src, want] of cases) {
    const out = join(dir, 'out');
    const r = await cli('export', src, out);
    assert.equal(r.code, 2, `${what}: ${r.err}`);
    assert.ok(r.err.startsWith(`error: ${want}`), `${what}: ${r.err}`);
    assert.equal(r.err.trim().split('\n').length, 1, `${what}: one line, no traceback: ${r.err}`);
    assert.ok(!existsSync(out) && hidden(out).length === 0, `${what}: nothing written`);
  }
  const taken = join(dir, 'taken');
  mkdirSync(taken);
  writeFileSync(join(taken, 'notes.txt'), 'mine');
  const r = await cli('export', join(hub, 'xlmr'), taken);
  assert.equal(r.code, 2);
  assert.match(r.err, /^error: \S+taken: exists and is neither empty nor an mlama checkpoint; choose a new folder \(nothing was written\)\n$/);
  assert.equal(readFileSync(join(taken, 'notes.txt'), 'utf8'), 'mine');
});

test('mlama export writes a checkpoint of every registered family (mLUKE, XLM-R, mBERT, ...) the harness loads, each manifest naming its family', {
  skip,
}, async () => {
  const hub = hubDirs();
  const dir = tempDir('mlama-export-cli-');
  // Every family of the registry: test/support/make_word_models.py writes a hub-style model of each.
  for (const family of FAMILY_NAMES) {
    const out = join(dir, family);
    const r = await cli('export', join(hub, family), out);
    assert.equal(r.code, 0, r.err);
    const parity = new RegExp(`^${family} max_abs=(\\S+) `, 'm').exec(r.out);
    assert.ok(parity && Number(parity[1]) < 1e-3, r.out);
    console.log(`# ${parity[0]}`);
    const manifest = JSON.parse(readFileSync(join(out, CONTRACT.manifest), 'utf8'));
    assert.equal(manifest.family, family);
    assert.equal(loadCheckpoint(out).family.name, family);
    assert.deepEqual(hidden(out), [], 'the folder written aside was moved into place');
  }
  assert.ok(existsSync(join(dir, 'luke', 'model.words.onnx')) && existsSync(join(dir, 'luke', 'entity_vocab.json')));
});

test('an export that fails its own check leaves no loadable checkpoint, and an earlier one stays as it was', { skip }, async () => {
  const hub = hubDirs();
  const dir = tempDir('mlama-export-fail-');
  const out = join(dir, 'xlmr');
  const r = await cli('export', join(hub, 'xlmr'), out, '--tolerance', '0');
  assert.equal(r.code, 2);
  assert.match(r.err, /^error: exported graphs differ from the torch model by \S+ \(> 0\)\n$/);
  assert.ok(!existsSync(out), 'no checkpoint where the export failed');
  assert.deepEqual(hidden(out), [], 'the folder written aside is removed');
  assert.equal((await cli('export', join(hub, 'xlmr'), out)).code, 0);
  const before = readFileSync(join(out, CONTRACT.manifest));
  assert.equal((await cli('export', join(hub, 'xlmr'), out, '--tolerance', '0')).code, 2);
  assert.deepEqual(readFileSync(join(out, CONTRACT.manifest)), before);
  // Another source's export is refused before anything is written: the checkpoint there is another model.
  const other = await cli('export', join(hub, 'bert'), out);
  assert.equal(other.code, 2);
  assert.match(other.err, /^error: \S+: holds a checkpoint that is not an earlier export of \S+ \(mlama-checkpoint\.json: origin\); choose a new folder/);
  assert.deepEqual(readFileSync(join(out, CONTRACT.manifest)), before);
  assert.equal(loadCheckpoint(out).family.name, 'xlmr');
  assert.deepEqual(hidden(out), []);
});
