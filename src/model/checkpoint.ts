import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { fail } from '../errors.js';
import { readJsonFile } from '../data/jsonl.js';
import { loadTokenizer, type WordTokenizer } from '../tokenize/tokenizer.js';
import { loadEntityVocab, type EntityVocab, type KeyFilter } from '../tokenize/entityVocab.js';
import type { PromptStyle } from '../prompts/styles.js';
import type { ModelConfig } from './config.js';
import { CONTRACT, graphSignature, type GraphSignature, type Head, type Variant } from './contract.js';
import { HEAD_SPECS } from './heads.js';
import { HEADS } from '../types.js';
import { familyByName, legacyFamily, type FamilyName, type ModelFamily } from './families/index.js';

export const MANIFEST = CONTRACT.manifest;
export const FORMAT = CONTRACT.format;

export type GraphEntry = GraphSignature;

/** The small manifest the harness reads to know the family and the graphs' files, inputs and outputs. */
export interface Manifest {
  format: string;
  /** The model family (src/model/families); manifests written before it existed have only `architecture`. */
  family?: FamilyName;
  /** Older field, still written for older readers: "luke" or "word-only" (an XLM-R export). */
  architecture?: 'luke' | 'word-only';
  /** True for generated checkpoints: reports say so. */
  random_weights: boolean;
  origin: Record<string, unknown>;
  graphs: Partial<Record<Variant, GraphEntry>>;
  files: { tokenizer: string; config: string; entity_vocab?: string; weights?: string[] };
  /** Quantised copies of the graphs (tools/quantize_int8.py), by precision. */
  precisions?: Partial<Record<Exclude<Precision, 'float32'>, PrecisionEntry>>;
}

export const PRECISIONS = ['float32', 'int8'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** A precision's graph files by variant, and every side file those graphs read (their weights). */
export interface PrecisionEntry {
  graphs: Partial<Record<Variant, string>>;
  weights: string[];
  quantiser?: string;
}

export interface Checkpoint {
  dir: string;
  manifest: Manifest;
  family: ModelFamily;
  config: ModelConfig;
  tokenizer: WordTokenizer;
  entityVocab: EntityVocab | null;
}

export function expectedGraph(variant: Variant, family: ModelFamily): GraphEntry {
  return graphSignature(variant, family.inputGroups, family.heads);
}

/** The family a manifest names, or the one its older `architecture` field implies. */
function manifestFamily(m: Manifest, mPath: string): ModelFamily {
  if (m.family !== undefined) return familyByName(m.family, `${mPath}: field "family"`);
  const legacy = legacyFamily(m.architecture);
  if (!legacy) fail(`${mPath}: field "family" missing (or "architecture" must be "luke" or "word-only")`);
  return familyByName(legacy, mPath);
}

const CONFIG_FIELDS: (keyof ModelConfig)[] = [
  'vocab_size',
  'hidden_size',
  'num_hidden_layers',
  'num_attention_heads',
  'intermediate_size',
  'max_position_embeddings',
  'pad_token_id',
];

/**
 * Loads and cross-checks a checkpoint directory: manifest, config, tokenizer size and special ids, entity
 * vocabulary size and special entities. Each mismatch is one line naming the file and field.
 */
export function loadCheckpoint(dir: string, opts: { entityKeys?: KeyFilter } = {}): Checkpoint {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) fail(`${dir}: checkpoint directory not found`);
  const mPath = join(dir, MANIFEST);
  if (!existsSync(mPath)) fail(`${mPath}: missing (a checkpoint needs its manifest; see docs/CHECKPOINT.md)`);
  const manifest = readJsonFile(mPath) as Manifest;
  if (manifest?.format !== FORMAT) fail(`${mPath}: field "format" must be "${FORMAT}"`);
  const family = manifestFamily(manifest, mPath);
  if (!manifest.graphs?.gathered) fail(`${mPath}: field "graphs.gathered" missing`);
  for (const [variant, entry] of Object.entries(manifest.graphs) as [Variant, GraphEntry][]) {
    // The words graph is a LUKE encoder run without its entity inputs; a family without them has nothing to drop.
    if (variant === 'words' && !family.inputGroups.includes('entities'))
      fail(`${mPath}: field "graphs.words": family ${family.name} has no entity inputs, so it has no words graph (its gathered graph is word-only already)`);
    const want = expectedGraph(variant, family);
    if (typeof entry?.file !== 'string') fail(`${mPath}: field "graphs.${variant}.file" missing or not a string`);
    for (const name of want.inputs) if (!entry.inputs?.includes(name)) fail(`${mPath}: field "graphs.${variant}.inputs" lacks "${name}"`);
    for (const name of want.outputs) if (!entry.outputs?.includes(name)) fail(`${mPath}: field "graphs.${variant}.outputs" lacks "${name}"`);
    if (typeof entry.file !== 'string' || entry.file === '') fail(`${mPath}: field "graphs.${variant}.file" must be a file name`);
    if (!existsSync(join(dir, entry.file))) fail(`${join(dir, entry.file)}: graph file missing (graphs.${variant}.file)`);
  }
  for (const f of ['tokenizer', 'config', 'entity_vocab'] as const) {
    const v = manifest.files?.[f];
    if (v !== undefined && (typeof v !== 'string' || v === '')) fail(`${mPath}: field "files.${f}" must be a file name`);
  }
  const weights: unknown = manifest.files?.weights ?? [];
  if (!Array.isArray(weights) || weights.some((w) => typeof w !== 'string' || w === '')) fail(`${mPath}: field "files.weights" must be a list of file names`);
  for (const w of weights as string[]) {
    if (!existsSync(join(dir, w))) fail(`${join(dir, w)}: weights file missing (field "files.weights" of ${mPath})`);
    if (!statSync(join(dir, w)).isFile()) fail(`${join(dir, w)}: weights file is not a file (field "files.weights" of ${mPath})`);
  }
  const cPath = join(dir, manifest.files?.config ?? 'config.json');
  const config = readJsonFile(cPath) as ModelConfig;
  for (const f of CONFIG_FIELDS) if (typeof config?.[f] !== 'number') fail(`${cPath}: field "${f}" missing or not a number`);
  const tPath = join(dir, manifest.files?.tokenizer ?? 'tokenizer.json');
  const tokenizer = loadTokenizer(tPath, family.tokenizer);
  if (tokenizer.vocabSize !== config.vocab_size)
    fail(`${tPath}: tokenizer has ${tokenizer.vocabSize} ids but ${cPath} field "vocab_size" is ${config.vocab_size}`);
  if (tokenizer.special.pad !== config.pad_token_id)
    fail(`${tPath}: <pad> is id ${tokenizer.special.pad} but ${cPath} field "pad_token_id" is ${config.pad_token_id}`);
  let entityVocab: EntityVocab | null = null;
  if (family.inputGroups.includes('entities')) {
    if (typeof config.entity_vocab_size !== 'number') fail(`${cPath}: field "entity_vocab_size" missing`);
    const ePath = join(dir, manifest.files?.entity_vocab ?? 'entity_vocab.json');
    entityVocab = loadEntityVocab(ePath, opts.entityKeys);
    if (entityVocab.size !== config.entity_vocab_size)
      fail(`${ePath}: entity vocabulary has ${entityVocab.size} ids but ${cPath} field "entity_vocab_size" is ${config.entity_vocab_size}`);
    if (entityVocab.special.mask === undefined) fail(`${ePath}: no [MASK] entity (the entity-based prompt needs it)`);
  }
  checkPositions(config, cPath, join(dir, manifest.graphs.gathered.file), family);
  return { dir, manifest, family, config, tokenizer, entityVocab };
}

/**
 * The longest word sequence (with its special tokens) the model can position: RoBERTa-style position ids run from
 * padding_idx + 1, so max_position_embeddings - pad_token_id - 1 tokens (512 for XLM-R sizes, 128 for tiny);
 * BERT's run from 0, so all of them.
 */
export function maxSequenceLength(config: ModelConfig, family: ModelFamily): number {
  return config.max_position_embeddings - positionOffset(config, family);
}

const positionOffset = (config: ModelConfig, family: ModelFamily) => (family.layout.positions === 'from-zero' ? 0 : config.pad_token_id + 1);

/** Graphs above this size hold their weights inline; the position table is then not looked up (decoding costs too much). */
const GRAPH_DECODE_LIMIT = 64 * 2 ** 20;

/**
 * max_position_embeddings must leave room for a sequence after the padding offset, and the config's table sizes
 * must be what the graph's tables hold: 8 positions in a config whose graph has 130 rows would mark almost every
 * query too long, and an entity id past the graph's entity table would fail inside onnxruntime mid-run.
 */
function checkPositions(config: ModelConfig, cPath: string, graphFile: string, family: ModelFamily): void {
  const m = config.max_position_embeddings;
  const offset = positionOffset(config, family);
  if (!Number.isInteger(m) || m <= offset)
    fail(
      `${cPath}: field "max_position_embeddings" is ${m}: it must be an integer above ${family.layout.positions === 'from-zero' ? '0' : `pad_token_id + 1 (${offset})`}, where position ids start`,
    );
  if (statSync(graphFile).size > GRAPH_DECODE_LIMIT) return;
  let inits: { name?: string | null; dims?: unknown[] | null }[];
  try {
    inits = onnxProto.onnx.ModelProto.decode(readFileSync(graphFile)).graph?.initializer ?? [];
  } catch {
    return; // onnxruntime reports an unreadable graph in its own words when the session opens
  }
  const tables: [RegExp, keyof ModelConfig, string][] = [
    [/(^|\.)embeddings\.position_embeddings\.weight$/, 'max_position_embeddings', 'word position table'],
    [/entity_embeddings\.entity_embeddings\.weight$/, 'entity_vocab_size', 'entity embedding table'],
    [/(^|\.)embeddings\.word_embeddings\.weight$/, 'vocab_size', 'word embedding table'],
  ];
  for (const [pattern, field, what] of tables) {
    const t = inits.find((x) => pattern.test(x.name ?? '') && (field === 'entity_vocab_size' || !/entity/.test(x.name ?? '')));
    if (!t?.dims?.length || typeof config[field] !== 'number') continue;
    const rows = Number(t.dims[0]);
    if (rows !== config[field]) fail(`${cPath}: field "${field}" is ${config[field]} but the graph's ${what} (${graphFile}) has ${rows} rows`);
  }
}

/** Whether the entity vocabulary can answer anything: the "lite" checkpoints keep only the special entities. */
export function entityStyleUsable(ck: Checkpoint): string | null {
  if (!ck.entityVocab) return `${ck.dir} is a word-only checkpoint: it has no entity inputs`;
  if (ck.entityVocab.keys <= 4) return `${ck.entityVocab.file} holds only the special entities (a "lite" checkpoint): run the word style only`;
  return null;
}

/** Why a checkpoint cannot run a style (its family lacks the head or the entity inputs the style needs), or null. */
export function styleRefusal(ck: Checkpoint, style: PromptStyle): string | null {
  const f = ck.family;
  const serves = `it serves: ${f.heads.join(', ')}`;
  if (!f.heads.includes(style.head)) return `${ck.dir}: family ${f.name} has no ${style.head} head (${serves})`;
  if (style.entityInputs && !f.inputGroups.includes('entities')) return `${ck.dir}: family ${f.name} takes no entity inputs (${serves})`;
  // A head that ranks entity ids needs an entity vocabulary that holds more than its special entities.
  return HEAD_SPECS[style.head].coverage ? entityStyleUsable(ck) : null;
}

/** Refuses, with one line, the first style this checkpoint cannot run: before anything is planned or scored. */
export function refuseUnservedStyles(ck: Checkpoint, styles: PromptStyle[]): void {
  for (const s of styles) {
    const why = styleRefusal(ck, s);
    if (why) fail(`style "${s.name}" cannot run: ${why}`);
  }
}

/**
 * The checkpoint as it runs at `precision`: its graphs and weights swapped for the quantised ones the manifest's
 * `precisions` names, so that the fingerprint hashes what runs. The naive graph has no quantised copy and is left
 * out. A checkpoint without them (or with one of its scoring graphs not quantised) is refused in one line.
 */
export function atPrecision(ck: Checkpoint, precision: Precision): Checkpoint {
  if (precision === 'float32') return ck;
  const entry = ck.manifest.precisions?.[precision];
  const make = `make them with: make quantize CHECKPOINT=${ck.dir}`;
  if (!entry) fail(`--precision ${precision}: ${ck.dir} has no ${precision} graphs (no "precisions.${precision}" in its ${MANIFEST}); ${make}`);
  const graphs: Partial<Record<Variant, GraphEntry>> = {};
  for (const [variant, g] of Object.entries(ck.manifest.graphs) as [Variant, GraphEntry][]) {
    if (variant === 'naive') continue;
    const file = entry.graphs?.[variant];
    if (typeof file !== 'string' || file === '') fail(`--precision ${precision}: ${ck.dir} has no ${precision} copy of its "${variant}" graph; ${make}`);
    graphs[variant] = { ...g, file };
  }
  const weights: unknown = entry.weights ?? [];
  if (!Array.isArray(weights) || weights.some((w) => typeof w !== 'string' || w === ''))
    fail(`${join(ck.dir, MANIFEST)}: field "precisions.${precision}.weights" must be a list of file names`);
  for (const f of [...Object.values(graphs).map((g) => g.file), ...(weights as string[])])
    if (!existsSync(join(ck.dir, f))) fail(`${join(ck.dir, f)}: missing (precisions.${precision} of ${join(ck.dir, MANIFEST)}); ${make}`);
  return { ...ck, manifest: { ...ck.manifest, graphs, files: { ...ck.manifest.files, weights: weights as string[] } } };
}

/** Hashes of the files that decide results: graph, weights, tokenizer, entity vocabulary, config. */
export function checkpointFingerprint(ck: Checkpoint): Record<string, string> {
  const files: Record<string, string> = {
    graph: ck.manifest.graphs.gathered!.file,
    ...(ck.manifest.graphs.words ? { graph_words: ck.manifest.graphs.words.file } : {}),
    tokenizer: ck.manifest.files.tokenizer,
    config: ck.manifest.files.config,
  };
  if (ck.manifest.files.entity_vocab) files.entity_vocab = ck.manifest.files.entity_vocab;
  (ck.manifest.files.weights ?? []).forEach((w, i) => (files[`weights${i ? i : ''}`] = w));
  return Object.fromEntries(Object.entries(files).map(([k, f]) => [k, hashFile(join(ck.dir, f))]));
}

const hashCache = new Map<string, { size: number; mtime: number; hash: string }>();

/** The end-of-run check must read the bytes again: a file rewritten in place can keep its size and mtime. */
export function clearHashCache(): void {
  hashCache.clear();
}

export function hashFile(path: string): string {
  const st = statSync(path);
  const hit = hashCache.get(path);
  if (hit && hit.size === st.size && hit.mtime === st.mtimeMs) return hit.hash;
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(1 << 22);
  try {
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  const hash = h.digest('hex').slice(0, 16);
  hashCache.set(path, { size: st.size, mtime: st.mtimeMs, hash });
  return hash;
}

export function writeJson(path: string, value: unknown): void {
  writeFileSync(path, JSON.stringify(value, null, 2) + '\n');
}

export function writeChunks(path: string, chunks: Uint8Array[]): void {
  const fd = openSync(path, 'w');
  try {
    for (const c of chunks) writeSync(fd, c);
  } finally {
    closeSync(fd);
  }
}

export function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
}

/** The widths of the heads' outputs, for the scorer's head budget. */
export function headWidths(ck: Checkpoint): Record<Head, number> {
  return Object.fromEntries(HEADS.map((h) => [h, HEAD_SPECS[h].width(ck.config)])) as Record<Head, number>;
}
