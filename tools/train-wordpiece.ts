/**
 * Trains the small real WordPiece tokenizer of generated BERT checkpoints, the way multilingual BERT's is laid
 * out, on the same corpus as the Unigram one (tools/corpus.ts), with the pinned Python `tokenizers` and
 * transformers (make python-env). Usage: tsx tools/train-wordpiece.ts DATA_DIR OUT_JSON
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tokenizerCorpus } from './corpus.js';

const [data = '../shared/datasets/mlama', out = 'datasets/tokenizer/wordpiece-12k.tokenizer.json'] = process.argv.slice(2);
const lines = tokenizerCorpus(data);
const corpus = join(mkdtempSync(join(tmpdir(), 'wordpiece-')), 'corpus.txt');
writeFileSync(corpus, lines.join('\n') + '\n');
execFileSync(process.env.PYTHON ?? '.venv/bin/python', [join(import.meta.dirname, 'train_wordpiece.py'), corpus, out, '12000'], { stdio: 'inherit' });
console.log(`trained on ${lines.length} lines; wrote ${out}`);
