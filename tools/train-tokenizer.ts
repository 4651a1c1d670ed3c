/**
 * Trains the small real Unigram tokenizer used by tests and the tiny checkpoint, reproducibly, with Debian's
 * sentencepiece (apt install sentencepiece), on the shared data's templates and labels, and writes it as an
 * XLM-R-layout tokenizer.json. Usage: tsx tools/train-tokenizer.ts DATA_DIR OUT_JSON
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSpmVocab, xlmrTokenizerJson } from '../src/tokenize/tokenizerJson.js';
import { tokenizerCorpus } from './corpus.js';

const [data = '../shared/datasets/mlama', out = 'datasets/tokenizer/unigram-8k.tokenizer.json'] = process.argv.slice(2);
const lines = tokenizerCorpus(data);
const dir = mkdtempSync(join(tmpdir(), 'spm-'));
const corpus = join(dir, 'corpus.txt');
writeFileSync(corpus, lines.join('\n') + '\n');
execFileSync(
  'spm_train',
  [
    `--input=${corpus}`,
    `--model_prefix=${join(dir, 'm')}`,
    '--vocab_size=8000',
    '--model_type=unigram',
    '--character_coverage=1.0',
    '--byte_fallback=true',
    '--normalization_rule_name=nfkc',
    '--num_threads=1',
    '--shuffle_input_sentence=false',
    '--minloglevel=2',
  ],
  { stdio: ['ignore', 'ignore', 'inherit'] },
);
execFileSync('spm_export_vocab', [`--model=${join(dir, 'm.model')}`, `--output=${join(dir, 'm.vocab')}`]);
const json = xlmrTokenizerJson(parseSpmVocab(readFileSync(join(dir, 'm.vocab'), 'utf8')));
writeFileSync(out, JSON.stringify(json) + '\n');
console.log(`trained on ${lines.length} lines; wrote ${out}`);
