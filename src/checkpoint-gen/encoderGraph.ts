import type { LukeConfig, ModelConfig } from '../model/config.js';
import { CONTRACT, type Variant } from '../model/contract.js';
import type { ModelFamily } from '../model/families/index.js';
import { FLOAT, INT64, graphBuilder, type GraphBuilder, type WeightFile } from './onnxWriter.js';

/**
 * A family's masked LM as an ONNX graph with the contract's names (src/model/contract.json): LukeForMaskedLM, or
 * a word-only relative (XLM-R: no entity inputs; BERT: positions from 0 and token_type_ids). Word and entity
 * hidden states are kept apart through the encoder (keys and values are concatenated per layer), which is how
 * entity-aware attention picks its query matrix without slicing.
 *
 * 'gathered': the last layer past its keys and values and the word head run only at `word_positions`, which
 * return the full-vocabulary log-softmax at the `word_candidates` ids; likewise the entity rows at `entity_slots`,
 * log-probabilities at `entity_candidates`. Empty position or slot lists cost nothing, so one graph serves every
 * prompt style.
 * 'naive': logits for every word position over the whole vocabulary and for every entity over the whole entity
 * vocabulary, the pattern the benchmark compares against.
 */
export function buildEncoderGraph(c: ModelConfig, family: ModelFamily, wf: WeightFile, variant: Variant): Uint8Array {
  const g = graphBuilder(wf);
  const k = kit(g, c);
  const [inputIds, attentionMask] = CONTRACT.input_groups.words.map(k.input);
  let words = wordEmbeddings(k, c, family, inputIds);
  const lc = family.inputGroups.includes('entities') ? (c as LukeConfig) : null;
  const entityStream = lc ? entityEmbeddings(k, lc) : null;

  // Additive mask over keys (words then entities), as transformers' extended attention mask.
  const keyMask = k.f32(entityStream ? g.op('Concat', [attentionMask, entityStream.mask], { axis: 1 }) : attentionMask);
  const additive = g.op('Mul', [g.op('Sub', [g.constFloat([1], []), keyMask]), g.constFloat([-3.4028234663852886e38], [])]);
  const maskB11T = g.op('Unsqueeze', [additive, g.constInt([1, 2])]);

  const heads = c.num_attention_heads;
  const d = c.hidden_size / heads;
  const att: Attention = {
    maskB11T,
    inputIds,
    splitHeads: (x) => g.op('Transpose', [g.op('Reshape', [x, g.constInt([0, -1, heads, d])])], { perm: [0, 2, 1, 3] }),
    mergeHeads: (x) => g.op('Reshape', [g.op('Transpose', [x], { perm: [0, 2, 1, 3] }), g.constInt([0, -1, c.hidden_size])]),
    scale: g.constFloat([1 / Math.sqrt(d)], []),
  };

  // The gathered variant's reads: word positions and entity slots, the only rows its heads see.
  const { word, entity } = CONTRACT.heads;
  const reads: Reads | null =
    variant === 'gathered' ? { word: word.gather_inputs.map(k.input), entity: entityStream ? entity.gather_inputs.map(k.input) : null } : null;

  for (let i = 0; i < c.num_hidden_layers; i++) {
    // Past the last layer's keys and values only the rows a head reads matter: the gathered variant runs its
    // queries, residuals and feed-forward layers at those rows alone (the naive one needs every row's logits).
    words = encoderLayer(k, lc, att, i, words, entityStream, reads && i === c.num_hidden_layers - 1 ? reads : null);
  }
  addHeads(k, c, lc, variant, reads, inputIds, words, entityStream);
  const arch = c.architectures?.[0] ?? family.name;
  return g.encode(`${arch} (${variant}); model_type ${c.model_type}${lc ? `; entity-aware attention ${lc.use_entity_aware_attention}` : ''}`);
}

/** The small building blocks every part of the graph uses, bound to one graph and config. */
function kit(g: GraphBuilder, c: ModelConfig) {
  const W = (n: string) => g.weight(n);
  const linear = (x: string, p: string) => g.op('Add', [g.op('MatMul', [x, W(`${p}.weight`)]), W(`${p}.bias`)]);
  const layerNorm = (x: string, p: string) => g.op('LayerNormalization', [x, W(`${p}.weight`), W(`${p}.bias`)], { axis: -1, epsilon: c.layer_norm_eps });
  const gelu = (x: string) => {
    const erf = g.op('Erf', [g.op('Mul', [x, g.constFloat([Math.SQRT1_2], [])])]);
    return g.op('Mul', [g.op('Mul', [x, g.op('Add', [erf, g.constFloat([1], [])])]), g.constFloat([0.5], [])]);
  };
  return {
    g,
    W,
    input: (n: string) => g.input(n, INT64, CONTRACT.dynamic_axes[n]),
    linear,
    layerNorm,
    gelu,
    i64: (x: string) => g.op('Cast', [x], { to: INT64 }),
    f32: (x: string) => g.op('Cast', [x], { to: FLOAT }),
  };
}
type Kit = ReturnType<typeof kit>;

interface EntityStream {
  ids: string;
  mask: string;
  hidden: string;
}

interface Attention {
  maskB11T: string;
  inputIds: string;
  splitHeads(x: string): string;
  mergeHeads(x: string): string;
  scale: string;
}

interface Reads {
  word: string[];
  entity: string[] | null;
}

/** Word embeddings: RoBERTa positions count non-padding tokens from padding_idx + 1; BERT's count from 0. */
function wordEmbeddings({ g, W, i64, input, layerNorm }: Kit, c: ModelConfig, family: ModelFamily, inputIds: string): string {
  let positions: string;
  if (family.layout.positions === 'after-padding-idx') {
    const pad = g.constInt([c.pad_token_id], []);
    const notPad = i64(g.op('Not', [g.op('Equal', [inputIds, pad])]));
    positions = g.op('Add', [g.op('Mul', [g.op('CumSum', [notPad, g.constInt([1], [])]), notPad]), pad]);
  } else {
    const ones = g.op('Expand', [g.constInt([1], []), g.op('Shape', [inputIds])]);
    positions = g.op('Sub', [g.op('CumSum', [ones, g.constInt([1], [])]), g.constInt([1], [])]);
  }
  const typeIds = family.layout.tokenTypes ? input(CONTRACT.input_groups.token_types[0]) : g.constInt([0], []);
  const wordTypes = g.op('Gather', [W('embeddings.token_type_embeddings.weight'), typeIds]);
  const words = g.op('Add', [
    g.op('Add', [g.op('Gather', [W('embeddings.word_embeddings.weight'), inputIds]), g.op('Gather', [W('embeddings.position_embeddings.weight'), positions])]),
    wordTypes,
  ]);
  return layerNorm(words, 'embeddings.LayerNorm');
}

/** Entity embeddings (LUKE): the entity's own vector, the mean of the position embeddings of its tokens, its type. */
function entityEmbeddings({ g, W, f32, input, layerNorm }: Kit, lc: LukeConfig): EntityStream {
  const [entityIds, entityMask, entityTypes, entityPositions] = CONTRACT.input_groups.entities.map(input);
  let ent = g.op('Gather', [W('entity_embeddings.entity_embeddings.weight'), entityIds]);
  if (lc.entity_emb_size !== lc.hidden_size) ent = g.op('MatMul', [ent, W('entity_embeddings.entity_embedding_dense.weight')]);
  const posMask = f32(g.op('Not', [g.op('Equal', [entityPositions, g.constInt([-1], [])])]));
  const posEmb = g.op('Gather', [W('entity_embeddings.position_embeddings.weight'), g.op('Max', [entityPositions, g.constInt([0], [])])]);
  const posSum = g.op('ReduceSum', [g.op('Mul', [posEmb, g.op('Unsqueeze', [posMask, g.constInt([-1])])]), g.constInt([2])], { keepdims: 0 });
  const posCount = g.op('Max', [g.op('ReduceSum', [posMask, g.constInt([2])], { keepdims: 1 }), g.constFloat([1e-7], [])]);
  const entities = g.op('Add', [
    g.op('Add', [ent, g.op('Div', [posSum, posCount])]),
    g.op('Gather', [W('entity_embeddings.token_type_embeddings.weight'), entityTypes]),
  ]);
  return { ids: entityIds, mask: entityMask, hidden: layerNorm(entities, 'entity_embeddings.LayerNorm') };
}

/** One encoder layer; updates the entity stream in place and returns the words' hidden states. `last`: the read rows. */
function encoderLayer(k: Kit, lc: LukeConfig | null, att: Attention, i: number, words: string, entityStream: EntityStream | null, last: Reads | null): string {
  const { g, linear, layerNorm, gelu } = k;
  const { splitHeads } = att;
  const p = `encoder.layer.${i}`;
  const a = `${p}.attention.self`;
  const keyEntities = entityStream?.hidden;
  const both = keyEntities ? g.op('Concat', [words, keyEntities], { axis: 1 }) : words;
  const kT = g.op('Transpose', [splitHeads(linear(both, `${a}.key`))], { perm: [0, 1, 3, 2] });
  const v = splitHeads(linear(both, `${a}.value`));
  const gather = (x: string, idx: string) => g.op('GatherND', [x, g.op('Unsqueeze', [idx, g.constInt([-1])])], { batch_dims: 1 });
  const qWords = last ? gather(words, last.word[0]) : words;
  const entities = keyEntities && last && last.entity ? gather(keyEntities, last.entity[0]) : keyEntities;
  const attend = (scores: string) => g.op('MatMul', [g.op('Softmax', [g.op('Add', [g.op('Mul', [scores, att.scale]), att.maskB11T])], { axis: -1 }), v]);
  let wordCtx: string;
  let entityCtx: string | null = null;
  if (entities && lc?.use_entity_aware_attention) {
    const [kWords, kEntities] = splitKeys(g, kT, att.inputIds);
    const qs = (x: string, name: string) => splitHeads(linear(x, `${a}.${name}`));
    const wordScores = g.op('Concat', [g.op('MatMul', [qs(qWords, 'query'), kWords]), g.op('MatMul', [qs(qWords, 'w2e_query'), kEntities])], { axis: -1 });
    const entityScores = g.op('Concat', [g.op('MatMul', [qs(entities, 'e2w_query'), kWords]), g.op('MatMul', [qs(entities, 'e2e_query'), kEntities])], {
      axis: -1,
    });
    wordCtx = attend(wordScores);
    entityCtx = attend(entityScores);
  } else {
    wordCtx = attend(g.op('MatMul', [splitHeads(linear(qWords, `${a}.query`)), kT]));
    if (entities) entityCtx = attend(g.op('MatMul', [splitHeads(linear(entities, `${a}.query`)), kT]));
  }
  const block = (ctx: string, residual: string) => {
    const attnOut = layerNorm(g.op('Add', [linear(att.mergeHeads(ctx), `${p}.attention.output.dense`), residual]), `${p}.attention.output.LayerNorm`);
    const inter = gelu(linear(attnOut, `${p}.intermediate.dense`));
    return layerNorm(g.op('Add', [linear(inter, `${p}.output.dense`), attnOut]), `${p}.output.LayerNorm`);
  };
  const out = block(wordCtx, qWords);
  if (entityStream && entities && entityCtx) entityStream.hidden = block(entityCtx, entities);
  return out;
}

/**
 * Heads. Both project with the tied embedding matrix through Gemm(transB) on rows flattened to 2-D; the table is
 * left unpacked (see unpackedWeight): a pre-packed copy would add 1.8 GB for mLUKE-base sizes.
 */
function addHeads(
  { g, W, linear, layerNorm, gelu }: Kit,
  c: ModelConfig,
  lc: LukeConfig | null,
  variant: Variant,
  reads: Reads | null,
  inputIds: string,
  words: string,
  entityStream: EntityStream | null,
): void {
  const H = c.hidden_size;
  const { word, entity } = CONTRACT.heads;
  const project = (x: string, inWidth: number, table: string, bias: string) =>
    g.op('Gemm', [g.op('Reshape', [x, g.constInt([-1, inWidth])]), g.unpackedWeight(table), W(bias)], { transB: 1 });
  const wordHead = (x: string) => layerNorm(gelu(linear(x, 'lm_head.dense')), 'lm_head.layer_norm');
  const entityHead = (x: string) => layerNorm(gelu(linear(x, 'entity_predictions.transform.dense')), 'entity_predictions.transform.LayerNorm');
  const backTo3d = (flat: string, like: string, width: number) =>
    g.op('Reshape', [flat, g.op('Concat', [g.op('Slice', [g.op('Shape', [like]), g.constInt([0]), g.constInt([2])]), g.constInt([width])], { axis: 0 })], {
      allowzero: 1,
    });
  const out = (name: string, from: string, width: number) =>
    g.output(name, from, FLOAT, [...CONTRACT.dynamic_axes[name].slice(0, 2), width === -1 ? CONTRACT.dynamic_axes[name][2] : width]);

  if (variant === 'naive') {
    const wl = project(wordHead(words), H, 'embeddings.word_embeddings.weight', 'lm_head.bias');
    out(word.naive_output, backTo3d(wl, inputIds, c.vocab_size), c.vocab_size);
    if (lc && entityStream) {
      const el = project(entityHead(entityStream.hidden), lc.entity_emb_size, 'entity_embeddings.entity_embeddings.weight', 'entity_predictions.bias');
      out(entity.naive_output, backTo3d(el, entityStream.ids, lc.entity_vocab_size), lc.entity_vocab_size);
    }
  } else if (reads) {
    // The last layer left only the read rows: words is [B, M, H] at word_positions, entities [B, S, H] at slots.
    const [wordPositions, wordCandidates] = reads.word;
    const wl = project(wordHead(words), H, 'embeddings.word_embeddings.weight', 'lm_head.bias');
    const wordLogProbs = backTo3d(g.op('LogSoftmax', [wl], { axis: -1 }), wordPositions, c.vocab_size);
    out(word.gathered_output, g.op('GatherElements', [wordLogProbs, wordCandidates], { axis: 2 }), -1);
    if (lc && entityStream && reads.entity) {
      const [entitySlots, entityCandidates] = reads.entity;
      const el = project(entityHead(entityStream.hidden), lc.entity_emb_size, 'entity_embeddings.entity_embeddings.weight', 'entity_predictions.bias');
      const entityLogProbs = backTo3d(g.op('LogSoftmax', [el], { axis: -1 }), entitySlots, lc.entity_vocab_size);
      out(entity.gathered_output, g.op('GatherElements', [entityLogProbs, entityCandidates], { axis: 2 }), -1);
    }
  }
}

/** Splits [B, h, d, L+E] transposed keys at the word count (taken from input_ids' shape). */
function splitKeys(g: GraphBuilder, kT: string, inputIds: string): [string, string] {
  const L = g.op('Slice', [g.op('Shape', [inputIds]), g.constInt([1]), g.constInt([2])]);
  const big = g.constInt([Number.MAX_SAFE_INTEGER]);
  const axis = g.constInt([3]);
  return [g.op('Slice', [kT, g.constInt([0]), L, axis]), g.op('Slice', [kT, L, big, axis])];
}
