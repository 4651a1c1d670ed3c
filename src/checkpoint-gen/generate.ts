import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDataset } from '../data/mlama.js';
import { readLabelIndex } from '../data/labels.js';
import { buildEntityVocab } from '../tokenize/entityVocabBuild.js';
import { entityVocabJson } from '../tokenize/entityVocab.js';
import { padTokenizerJson, padWordPieceJson } from '../tokenize/tokenizerJson.js';
import { PACKAGE_ROOT } from '../paths.js';
import { CONTRACT } from '../model/contract.js';
import { FAMILIES, type FamilyName } from '../model/families/index.js';
import { ensureDir, expectedGraph, writeChunks, writeJson, type Manifest } from '../model/checkpoint.js';
import { familyConfig, randomWeights, type PresetName } from './weights.js';
import { buildEncoderGraph } from './encoderGraph.js';
import { addWeight, weightFile } from './onnxWriter.js';

/** The bundled tokenizers (make tokenizer, make tokenizer-wordpiece), trained on the shared data. */
export const BUNDLED_TOKENIZER = join(PACKAGE_ROOT, 'datasets', 'tokenizer', 'unigram-8k.tokenizer.json');
export const BUNDLED_WORDPIECE = join(PACKAGE_ROOT, 'datasets', 'tokenizer', 'wordpiece-12k.tokenizer.json');
export const BUNDLED_SAMPLE = join(PACKAGE_ROOT, 'datasets', 'mlama-sample');

/** Word vocabulary sizes of the base-shaped presets: XLM-R's 250,002 and multilingual BERT (cased)'s 119,547. */
const BASE_VOCAB = { unigram: 250002, wordpiece: 119547 } as const;

export interface GenerateOptions {
  family?: FamilyName;
  preset: PresetName;
  out: string;
  seed: number;
  /** mLAMA directory whose labels make up the entity vocabulary (LUKE). */
  data: string;
  entityAware: boolean;
}

export interface GenerateReport {
  weightBytes: number;
  entities: number;
  vocab: number;
}

function generatedTokenizer(kind: 'unigram' | 'wordpiece', preset: PresetName): { json: object; vocab: number } {
  const base = JSON.parse(readFileSync(kind === 'unigram' ? BUNDLED_TOKENIZER : BUNDLED_WORDPIECE, 'utf8'));
  const json = preset !== 'base-shaped' ? base : kind === 'unigram' ? padTokenizerJson(base, BASE_VOCAB.unigram) : padWordPieceJson(base, BASE_VOCAB.wordpiece);
  const vocab = (json as { model: { vocab: unknown[] | Record<string, number> } }).model.vocab;
  const ids = Array.isArray(vocab) ? vocab.length : Object.keys(vocab).length;
  return { json, vocab: ids };
}

/**
 * A checkpoint of a family with deterministic random weights, honouring the same contract as an exported model:
 * tokenizer.json, config.json, entity_vocab.json (LUKE), the gathered and naive graphs over one weights file.
 */
export function generateCheckpoint(o: GenerateOptions): GenerateReport {
  const familyName = o.family ?? 'luke';
  const family = FAMILIES[familyName];
  const files = CONTRACT.files;
  ensureDir(o.out);
  for (const f of [files.gathered, files.naive, files.weights, files.entity_vocab, CONTRACT.manifest]) rmSync(join(o.out, f), { force: true });
  const tokenizer = generatedTokenizer(family.generatedTokenizer, o.preset);
  writeFileSync(join(o.out, files.tokenizer), JSON.stringify(tokenizer.json) + '\n');
  // The ids of the specials come from the tokenizer just written, read the way the loader reads them.
  const added = (tokenizer.json as { added_tokens: { id: number; content: string }[] }).added_tokens;
  const idOf = (t: string) => added.find((a) => a.content === t)!.id;
  const special = { pad: idOf(family.tokenizer.specials.pad), bos: idOf(family.tokenizer.specials.bos), eos: idOf(family.tokenizer.specials.eos) };
  let entities = 0;
  if (family.inputGroups.includes('entities')) {
    // The vocabulary does not depend on the weight seed, so runs of two seeds rank the same candidate entities.
    const entries = buildEntityVocab(readLabelIndex(openDataset(o.data)), { seed: 7, fillerTo: o.preset === 'base-shaped' ? 1_000_000 : 0 });
    entities = entries[entries.length - 1][1] + 1;
    writeFileSync(join(o.out, files.entity_vocab), entityVocabJson(entries));
  }
  const config = familyConfig(family, o.preset, tokenizer.vocab, special, entities ? { size: entities, entityAware: o.entityAware } : undefined);
  const weights = randomWeights(config, o.seed);
  const wf = weightFile(files.weights);
  for (const [name, w] of weights) addWeight(wf, name, w.dims, w.data);
  writeChunks(join(o.out, files.weights), wf.chunks);
  writeFileSync(join(o.out, files.gathered), buildEncoderGraph(config, family, wf, 'gathered'));
  writeFileSync(join(o.out, files.naive), buildEncoderGraph(config, family, wf, 'naive'));
  writeJson(join(o.out, files.config), config);
  const manifest: Manifest = {
    format: CONTRACT.format,
    family: familyName,
    architecture: entities ? 'luke' : 'word-only',
    random_weights: true,
    origin: { generator: 'mlama make-checkpoint', family: familyName, preset: o.preset, seed: o.seed, ...(entities ? { entity_vocab_from: o.data } : {}) },
    graphs: { gathered: expectedGraph('gathered', family), naive: expectedGraph('naive', family) },
    files: { tokenizer: files.tokenizer, config: files.config, ...(entities ? { entity_vocab: files.entity_vocab } : {}), weights: [files.weights] },
  };
  writeJson(join(o.out, CONTRACT.manifest), manifest);
  return { weightBytes: wf.offset, entities, vocab: tokenizer.vocab };
}
