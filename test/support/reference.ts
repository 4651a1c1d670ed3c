/**
 * A slow, plain forward pass of LukeForMaskedLM (transformers' semantics), one sequence at a time, in float64.
 * Tests only: it is the independent account the ONNX graphs are checked against.
 */
import type { LukeConfig } from '../../src/model/config.js';
import type { Weights } from '../../src/checkpoint-gen/weights.js';

type Vec = Float64Array;

export interface ReferenceInput {
  inputIds: number[];
  entityIds: number[];
  entityPositions: number[][];
}

/** `positions`: RoBERTa/LUKE count from padding_idx + 1 (the default), BERT from 0. */
export function referenceForward(
  c: LukeConfig,
  w: Weights,
  x: ReferenceInput,
  positions: 'after-padding-idx' | 'from-zero' = 'after-padding-idx',
): { wordLogits: Vec[]; entityLogits: Vec[] } {
  const H = c.hidden_size;
  const W = (n: string) => {
    const t = w.get(n);
    if (!t) throw new Error(`missing ${n}`);
    return t;
  };
  const row = (n: string, i: number, width: number): Vec => Float64Array.from(W(n).data.subarray(i * width, (i + 1) * width));
  const vec = (n: string): Vec => Float64Array.from(W(n).data);
  const linear = (v: Vec, n: string): Vec => {
    const { dims, data } = W(`${n}.weight`);
    const [inDim, outDim] = dims;
    const out = vec(`${n}.bias`);
    for (let i = 0; i < inDim; i++) {
      const vi = v[i];
      if (vi === 0) continue;
      for (let j = 0; j < outDim; j++) out[j] += vi * data[i * outDim + j];
    }
    return out;
  };
  const layerNorm = (v: Vec, n: string): Vec => {
    const g = W(`${n}.weight`).data;
    const b = W(`${n}.bias`).data;
    let mean = 0;
    for (const x of v) mean += x;
    mean /= v.length;
    let varSum = 0;
    for (const x of v) varSum += (x - mean) ** 2;
    const std = Math.sqrt(varSum / v.length + c.layer_norm_eps);
    return v.map((x, i) => ((x - mean) / std) * g[i] + b[i]);
  };
  const gelu = (v: Vec): Vec => v.map((x) => 0.5 * x * (1 + erf(x / Math.SQRT2)));
  const add = (a: Vec, b: Vec): Vec => a.map((x, i) => x + b[i]);

  // Embeddings
  let pos = positions === 'from-zero' ? -1 : c.pad_token_id;
  let words: Vec[] = x.inputIds.map((id) => {
    pos += 1;
    const e = add(
      add(row('embeddings.word_embeddings.weight', id, H), row('embeddings.position_embeddings.weight', pos, H)),
      row('embeddings.token_type_embeddings.weight', 0, H),
    );
    return layerNorm(e, 'embeddings.LayerNorm');
  });
  let entities: Vec[] = x.entityIds.map((id, k) => {
    let e = row('entity_embeddings.entity_embeddings.weight', id, c.entity_emb_size);
    if (c.entity_emb_size !== H) {
      const d = W('entity_embeddings.entity_embedding_dense.weight').data;
      const out = new Float64Array(H);
      for (let i = 0; i < c.entity_emb_size; i++) for (let j = 0; j < H; j++) out[j] += e[i] * d[i * H + j];
      e = out;
    }
    const ps = x.entityPositions[k].filter((p) => p !== -1);
    const mean = new Float64Array(H);
    for (const p of ps) {
      const r = row('entity_embeddings.position_embeddings.weight', p, H);
      for (let j = 0; j < H; j++) mean[j] += r[j] / ps.length;
    }
    return layerNorm(add(add(e, mean), row('entity_embeddings.token_type_embeddings.weight', 0, H)), 'entity_embeddings.LayerNorm');
  });

  const heads = c.num_attention_heads;
  const d = H / heads;
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `encoder.layer.${l}`;
    const all = [...words, ...entities];
    const keys = all.map((v) => linear(v, `${p}.attention.self.key`));
    const values = all.map((v) => linear(v, `${p}.attention.self.value`));
    const L = words.length;
    const attend = (v: Vec, isWord: boolean): Vec => {
      const qName = (toWord: boolean) => {
        if (!c.use_entity_aware_attention) return 'query';
        if (isWord) return toWord ? 'query' : 'w2e_query';
        return toWord ? 'e2w_query' : 'e2e_query';
      };
      const qWord = linear(v, `${p}.attention.self.${qName(true)}`);
      const qEnt = linear(v, `${p}.attention.self.${qName(false)}`);
      const ctx = new Float64Array(H);
      for (let h = 0; h < heads; h++) {
        const scores = keys.map((k, t) => {
          const q = t < L ? qWord : qEnt;
          let s = 0;
          for (let i = h * d; i < (h + 1) * d; i++) s += q[i] * k[i];
          return s / Math.sqrt(d);
        });
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const z = e.reduce((a, b) => a + b, 0);
        for (let t = 0; t < all.length; t++) for (let i = h * d; i < (h + 1) * d; i++) ctx[i] += (e[t] / z) * values[t][i];
      }
      const attnOut = layerNorm(add(linear(ctx, `${p}.attention.output.dense`), v), `${p}.attention.output.LayerNorm`);
      const inter = gelu(linear(attnOut, `${p}.intermediate.dense`));
      return layerNorm(add(linear(inter, `${p}.output.dense`), attnOut), `${p}.output.LayerNorm`);
    };
    const nextWords = words.map((v) => attend(v, true));
    const nextEntities = entities.map((v) => attend(v, false));
    words = nextWords;
    entities = nextEntities;
  }
  const project = (v: Vec, table: string, bias: string, width: number, rows: number): Vec => {
    const t = W(table).data;
    const b = W(bias).data;
    const out = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      let s = b[r];
      for (let i = 0; i < width; i++) s += v[i] * t[r * width + i];
      out[r] = s;
    }
    return out;
  };
  const wordLogits = words.map((v) =>
    project(layerNorm(gelu(linear(v, 'lm_head.dense')), 'lm_head.layer_norm'), 'embeddings.word_embeddings.weight', 'lm_head.bias', H, c.vocab_size),
  );
  const entityLogits = entities.map((v) =>
    project(
      layerNorm(gelu(linear(v, 'entity_predictions.transform.dense')), 'entity_predictions.transform.LayerNorm'),
      'entity_embeddings.entity_embeddings.weight',
      'entity_predictions.bias',
      c.entity_emb_size,
      c.entity_vocab_size,
    ),
  );
  return { wordLogits, entityLogits };
}

export function logSoftmax(v: Float64Array | Float32Array): Float64Array {
  let m = -Infinity;
  for (const x of v) if (x > m) m = x;
  let z = 0;
  for (const x of v) z += Math.exp(x - m);
  const lz = m + Math.log(z);
  return Float64Array.from(v, (x) => x - lz);
}

/** Abramowitz-Stegun 7.1.26 is too coarse for 1e-4 parity; this is the series/continued-fraction pair. */
export function erf(x: number): number {
  const t = Math.abs(x);
  if (t < 2.5) {
    let sum = t;
    let term = t;
    for (let n = 1; n < 60; n++) {
      term *= (-t * t) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction for large |x|
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (t + f);
  const erfc = Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f);
  return Math.sign(x) * (1 - erfc);
}
