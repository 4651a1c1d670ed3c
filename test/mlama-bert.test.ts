import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Query, RelationSet } from '../src/data/types.js';
import { bert } from '../src/model/families/bert.js';
import { buildQuery, prepareRelation } from '../src/prompts/build.js';
import { assembleMlamaBert, mlamaBertSentence, mlamaBertWords } from '../src/prompts/mlamaBert.js';
import { loadStyle } from '../src/prompts/styles.js';
import { loadTokenizer } from '../src/tokenize/tokenizer.js';

// The `mlama` preset on a WordPiece model builds the sentence as mLAMA's BERT connector does (prompts/mlamaBert.ts).
// The expected tokens were printed by their tokenizer itself (pytorch-pretrained-bert 0.6.1's BertTokenizer with
// mlama/modules/bert_connector.py's CustomBaseTokenizer, cased) over the same vocabulary: the committed 12k
// WordPiece tokenizer, which tools/protocols/bert_model.py writes as vocab.txt.
const tok = loadTokenizer(join(import.meta.dirname, '..', 'datasets', 'tokenizer', 'wordpiece-12k.tokenizer.json'), bert.tokenizer);
const tokens = (ids: number[]) => ids.map((i) => tok.tokenOf(i));
const wordPiece = { ...tok, encodeWord: tok.encodeWord! };

test('their sentence: [X] and [Y] filled, each of N masks its own whitespace token', () => {
  assert.equal(mlamaBertSentence(' [X]は[Y]の大陸 ', '日本 ', 2), '日本は[MASK] [MASK]の大陸');
  assert.equal(mlamaBertSentence('[X] costs [Y] $&.', '$1', 1), '$1 costs [MASK] $&.');
  assert.deepEqual(mlamaBertWords('パリは[MASK]の首都です。'), [
    { text: '[MASK]', kind: 'mask' },
    { text: 'パリはの', kind: 'rest' },
    { text: '首', kind: 'plain' },
    { text: '都', kind: 'plain' },
    { text: 'です。', kind: 'plain' },
  ]);
});

test('a [MASK] glued to text moves ahead of it, and the text is one word not split at punctuation, as theirs', () => {
  const cases: [string, string, number, string[]][] = [
    ['[X]は[Y]の大陸に属しています', '日本', 2, ['日', '本', '[MASK]', 'は', '[MASK]', 'の', '大', '陸', 'に', '属', 'し', '##ています']],
    ['[X]は[Y]の大陸に属しています', '日本', 1, ['日', '本', '[MASK]', 'はの', '大', '陸', 'に', '属', 'し', '##ています']],
    ['[X]は[Y]の首都です。', 'パリ', 1, ['[MASK]', 'パリ', '##は', '##の', '首', '都', 'です', '。']],
    ['[Y]は[X]の母語です', 'フランス', 1, ['[MASK]', 'は', '##フ', '##ランス', '##の', '母', '語', 'です']],
    ['[X] (born [Y]).', 'Sirindhorn', 1, ['Sir', '##ind', '##ho', '##r', '##n', '(', 'b', '##orn', '[MASK]', '[UNK]']],
    ['[X] is the capital of [Y] .', 'Paris', 1, ['Paris', 'is', 'the', 'capital', 'of', '[MASK]', '.']],
  ];
  for (const [template, subject, masks, theirs] of cases) {
    const a = assembleMlamaBert(template, subject, masks, wordPiece);
    assert.deepEqual(tokens(a.ids), ['[CLS]', ...theirs, '[SEP]'], `${template} ${subject} ${masks}`);
    assert.deepEqual(
      a.maskPositions,
      a.ids.flatMap((id, i) => (id === tok.special.mask ? [i] : [])),
    );
  }
});

test('--protocol mlama on a WordPiece model asks their sentence; the paper keeps the text in order', () => {
  const text = '[X]は[Y]の大陸に属しています';
  const query: Query = { key: 'k', language: 'ja', relation: 'P30', template: text, subject: '日本', golds: [{ label: 'アジア' }], lineids: [0] };
  const set: RelationSet = {
    language: 'ja',
    relation: 'P30',
    template: { relation: 'P30', text, source: 'test', yBeforeX: false },
    candidates: [{ label: 'アジア' }, { label: 'アフリカ' }],
    goldAdded: 0,
    triples: 1,
    queries: [query],
  };
  const ask = (tokenization: 'candidates-alone' | 'in-context') =>
    buildQuery(prepareRelation(set, tok, null, tokenization), query, loadStyle('word'), tok, null);
  const mlama = ask('candidates-alone');
  assert.deepEqual(
    mlama.passes.map((p) => tokens(p.inputIds)),
    [
      ['[CLS]', '日', '本', '[MASK]', 'はの', '大', '陸', 'に', '属', 'し', '##ています', '[SEP]'],
      ['[CLS]', '日', '本', '[MASK]', 'は', '[MASK]', 'の', '大', '陸', 'に', '属', 'し', '##ています', '[SEP]'],
    ],
  );
  assert.deepEqual(mlama.passes[1].maskPositions, [3, 5]);
  assert.deepEqual(mlama.relation.candidates.tokens.map(tokens), [['アジア'], ['アフ', '##リカ']]);
  const paper = ask('in-context');
  assert.deepEqual(tokens(paper.passes[1].inputIds).slice(0, 7), ['[CLS]', '日', '本', 'は', '[MASK]', '[MASK]', 'の']);
});
