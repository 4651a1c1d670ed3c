// Profiles the gathered graph on the peer benchmark's sample: onnxruntime's own profiler (time per op type),
// the batch shapes the scorer runs, and each run's seconds. Usage:
//   node --import tsx tools/profile-graph.ts --model DIR --data DIR [--style word] [--per-language 4] [--file FILE (default: the graph a run uses)]
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDataset, resolveLanguages } from '../src/data/mlama.js';
import { readLabelIndex } from '../src/data/labels.js';
import { keysForLabels } from '../src/tokenize/entityLinker.js';
import { headWidths, loadCheckpoint } from '../src/model/checkpoint.js';
import { isWordOnly, ort, type ModelSession } from '../src/model/session.js';
import { scoreQueries } from '../src/model/scorer.js';
import { loadStyle } from '../src/prompts/styles.js';
import { buildSample } from '../src/bench/peer.js';

const { values: a } = parseArgs({
  options: {
    model: { type: 'string' },
    data: { type: 'string' },
    style: { type: 'string', default: 'word' },
    'per-language': { type: 'string', default: '4' },
    languages: { type: 'string', default: 'en,ja,ar' },
    file: { type: 'string' },
    threads: { type: 'string', default: '2' },
    'batch-size': { type: 'string', default: '64' },
    'token-budget': { type: 'string', default: '4096' },
    'no-profile': { type: 'boolean', default: false },
    optimized: { type: 'string' },
  },
});
const ds = openDataset(a.data!);
const labels = readLabelIndex(ds);
const ck = loadCheckpoint(a.model!, { entityKeys: keysForLabels(labels.labels) });
const style = loadStyle(a.style!);
const sample = buildSample(ds, ck, labels, style, { languages: resolveLanguages(ds, a.languages!.split(',')), perLanguage: Number(a['per-language']) });
// By default the graph a run scores this style on: the words graph for word-only prompts when the export has one.
const file = a.file ?? (isWordOnly(style) && ck.manifest.graphs.words ? ck.manifest.graphs.words : ck.manifest.graphs.gathered!).file;
const session = await ort.InferenceSession.create(join(ck.dir, file), {
  intraOpNumThreads: Number(a.threads),
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  logSeverityLevel: 4,
  enableProfiling: !a['no-profile'],
  profileFilePrefix: '/tmp/ortprof',
  ...(a.optimized ? { optimizedModelFilePath: a.optimized } : {}),
});
const runs: { shape: string; ms: number }[] = [];
const ms: ModelSession = {
  variant: 'gathered',
  inputNames: session.inputNames,
  outputNames: session.outputNames,
  run: async (feeds) => {
    const ids = feeds.input_ids.dims;
    const pos = feeds[style.head === 'word' ? 'word_positions' : 'entity_slots'].dims;
    const e = feeds.entity_ids?.dims[1];
    const t0 = performance.now();
    const out = (await session.run(feeds)) as Record<string, ort.Tensor>;
    runs.push({ shape: `B=${ids[0]} L=${ids[1]} E=${e} M=${pos[1]}`, ms: performance.now() - t0 });
    return out;
  },
  release: () => session.release(),
};
const o = {
  batchSize: Number(a['batch-size']),
  tokenBudget: Number(a['token-budget']),
  headWidths: headWidths(ck),
  padEntityId: ck.entityVocab?.special.pad ?? 0,
};
// warm-up, as the bench does
for await (const _ of scoreQueries(ms, sample.slice(0, 1), o));
runs.length = 0;
const t0 = performance.now();
let n = 0;
for await (const b of scoreQueries(ms, sample, o)) n += b.length;
const wall = performance.now() - t0;
const passes = sample.reduce((s, b) => s + b.passes.length, 0);
const realTokens = sample.reduce((s, b) => s + b.passes.reduce((t, p) => t + p.inputIds.length, 0), 0);
console.log(
  `${n} queries, ${passes} passes, ${realTokens} real tokens, ${runs.length} runs, wall ${(wall / 1000).toFixed(2)} s, in run ${(runs.reduce((s, r) => s + r.ms, 0) / 1000).toFixed(2)} s`,
);
for (const r of runs) console.log(`  ${r.shape}  ${r.ms.toFixed(0)} ms`);
if (!a['no-profile']) {
  session.endProfiling(); // void in onnxruntime-node: the file is the newest /tmp/ortprof_*.json
  const file = readdirSync('/tmp')
    .filter((f) => f.startsWith('ortprof_'))
    .sort()
    .map((f) => join('/tmp', f))
    .pop()!;
  const events = JSON.parse(readFileSync(file, 'utf8')) as { cat: string; name: string; dur: number; args?: { op_name?: string } }[];
  const byOp = new Map<string, { us: number; n: number }>();
  let total = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const op = e.args?.op_name ?? '?';
    const x = byOp.get(op) ?? { us: 0, n: 0 };
    x.us += e.dur;
    x.n++;
    byOp.set(op, x);
    total += e.dur;
  }
  console.log(`kernel time ${(total / 1e6).toFixed(2)} s by op type:`);
  for (const [op, x] of [...byOp].sort((p, q) => q[1].us - p[1].us))
    console.log(`  ${op.padEnd(28)} ${(x.us / 1e6).toFixed(3)} s  ${((100 * x.us) / total).toFixed(1)}%  ${x.n} calls`);
  console.log(`profile: ${file}`);
}
await session.release();
