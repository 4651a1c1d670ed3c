import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { fail } from '../../errors.js';
import { resolveLanguages } from '../../data/mlama.js';
import { atPrecision, type Checkpoint, type Precision } from '../../model/checkpoint.js';
import { defaultThreads } from '../../model/session.js';
import { openRunContext, type RunContext } from '../../run/context.js';
import { benchPromptBuild } from '../../bench/prompts.js';
import { benchScoring, type Pattern } from '../../bench/scoring.js';
import { type Calibration, calibrateMatMul, medianCalibration } from '../../bench/calibrate.js';
import { promptBenchText, scoringBenchText } from '../../report/bench.js';
import { benchPeer, type HarnessGraph } from '../../bench/peer.js';
import { languageCosts, peerLibraries } from '../../bench/peerSetup.js';
import { peerBenchText } from '../../report/peer.js';
import { count, list, threadCount, type Io } from '../io.js';

function machine(threads?: number): string {
  const c = cpus();
  return `${c[0]?.model.trim() ?? 'unknown CPU'}, ${c.length} logical cores, ${threads ? `${threads} intra-op threads` : 'one JavaScript thread'}, Node ${process.version}`;
}

export function registerBench(program: Command, io: Io): void {
  const bench = program.command('bench').description('benchmarks that print ratios measured side by side in one run');

  bench
    .command('prompts')
    .description('build every query of a language (candidates tokenized once per relation) against per-fact re-tokenization')
    .requiredOption('--data <dir>', 'mLAMA directory')
    .requiredOption('--model <dir>', 'checkpoint directory (tokenizer and entity vocabulary)')
    .option('--language <lang>', 'language', 'en')
    .option('--styles <list>', "prompt styles (default: the paper's word and entity styles the checkpoint's family serves)", list('--styles'))
    .option('--rounds <n>', 'timed rounds (the median is reported)', count('--rounds'), 3)
    .option('--per-fact-limit <n>', 'queries per relation for the per-fact re-tokenizing comparison', count('--per-fact-limit'), 5)
    .action((o: BenchPromptsOptions) => benchPromptsCommand(o, io));

  bench
    .command('scoring')
    .description('queries per second of the shipped scorer and of the naive pattern, MFU against a MatMul calibration, overhead, peak RSS')
    .requiredOption('--data <dir>', 'mLAMA directory')
    .requiredOption('--model <dir>', 'checkpoint directory')
    .option('--languages <list>', 'languages of the fixed sample', list('--languages'), ['en', 'ja', 'ar'])
    .option('--per-language <n>', 'queries per language, spread over its relations', count('--per-language'), 100)
    .option('--styles <list>', "prompt styles (default: the paper's word and entity styles the checkpoint's family serves)", list('--styles'))
    .option('--patterns <list>', 'shipped, naive', list('--patterns'), ['shipped', 'naive'])
    .option('--rounds <n>', 'alternating rounds (medians are reported)', count('--rounds'), 3)
    .option('--threads <n>', 'onnxruntime intra-op threads', threadCount, defaultThreads())
    .option('--batch-size <n>', 'shipped scorer: rows per batch at most', count('--batch-size'), 64)
    .option('--token-budget <n>', 'shipped scorer: padded tokens per batch at most', count('--token-budget'), 4096)
    .action((o: BenchScoringOptions) => benchScoringCommand(o, io));

  bench
    .command('peer')
    .description(
      "the harness on an exported checkpoint against the authors' pattern in PyTorch on the same model (tools/peer_bench.py), int8 against float32, and the cost model",
    )
    .requiredOption('--data <dir>', 'mLAMA directory')
    .requiredOption('--model <dir>', 'checkpoint directory exported by tools/export_mluke.py')
    .requiredOption('--peer-model <dir>', 'the transformers directory it was exported from')
    .option('--python <list>', 'Python interpreters with torch and transformers; the peer runs on the one with the fastest float32 MatMul', list('--python'), [
      '.venv/bin/python',
    ])
    .option('--languages <list>', 'languages of the fixed sample', list('--languages'), ['en', 'ja', 'ar'])
    .option('--per-language <n>', 'queries per language, spread over its relations', count('--per-language'), 20)
    .option('--styles <list>', "prompt styles (default: the paper's word and entity styles the checkpoint's family serves)", list('--styles'))
    .option('--precisions <list>', 'harness graphs: float32 and int8 (the quantised graphs `make quantize` adds to the checkpoint)', list('--precisions'), [
      'float32',
    ])
    .option('--rounds <n>', 'alternating rounds (medians are reported)', count('--rounds'), 3)
    .option('--threads <n>', 'threads of both sides', threadCount, defaultThreads())
    .option('--batch-size <n>', 'harness: rows per batch at most', count('--batch-size'), 64)
    .option('--token-budget <n>', 'harness: padded tokens per batch at most', count('--token-budget'), 4096)
    .option('--cost-languages <list>', 'languages the cost model is computed for (default: all of the data)', list('--cost-languages'))
    .action((o: BenchPeerOptions) => benchPeerCommand(o, io));
}

interface BenchOptions {
  data: string;
  model: string;
  styles?: string[];
  rounds: number;
}

export interface BenchPromptsOptions extends BenchOptions {
  language: string;
  perFactLimit: number;
}

/** `mlama bench prompts`: building a language's queries, candidates tokenized once per relation against per fact. */
export function benchPromptsCommand(o: BenchPromptsOptions, io: Io): void {
  const ctx = openRunContext({ ...o, languages: [o.language], selection: { fallback: false } });
  io.out(`machine: ${machine()}`);
  io.out(promptBenchText(benchPromptBuild(ctx.ds, o.language, ctx.ck, ctx.labels, ctx.styles, { rounds: o.rounds, perFactLimit: o.perFactLimit }), io.tty));
}

interface SampleOptions extends BenchOptions {
  languages: string[];
  perLanguage: number;
  threads: number;
  batchSize: number;
  tokenBudget: number;
}

export interface BenchScoringOptions extends SampleOptions {
  patterns: string[];
}

/** The benchmark sample's context: its languages and styles, refused up front when the checkpoint cannot run them. */
function sampleContext(o: SampleOptions, hold: boolean): RunContext {
  return openRunContext({ ...o, selection: { fallback: false }, serve: true, hold });
}

/** The MatMul shapes of one encoder layer at the batch size the scorer reaches, for the ceiling calibration. */
function layerShapes(ck: Checkpoint, o: SampleOptions) {
  const c = ck.config;
  const m = Math.min(o.tokenBudget, o.batchSize * 16);
  return [
    { m, k: c.hidden_size, n: c.hidden_size },
    { m, k: c.hidden_size, n: c.intermediate_size },
    { m, k: c.intermediate_size, n: c.hidden_size },
  ];
}

/** `mlama bench scoring`: the shipped scorer against the naive pattern, MFU against a MatMul calibration. */
export async function benchScoringCommand(o: BenchScoringOptions, io: Io): Promise<void> {
  for (const p of o.patterns) if (p !== 'shipped' && p !== 'naive') fail(`--patterns: unknown pattern "${p}" (shipped, naive)`);
  const { ds, languages, labels, ck, styles } = sampleContext(o, false);
  const weightBytes = (ck.manifest.files.weights ?? []).reduce((s, w) => s + statSync(join(ck.dir, w)).size, 0);
  const c = ck.config;
  io.out(`machine: ${machine(o.threads)}`);
  io.out(
    `checkpoint: ${o.model} (hidden ${c.hidden_size}, ${c.num_hidden_layers} layers, word vocab ${c.vocab_size}, entities ${c.entity_vocab_size ?? 0}, weights ${(weightBytes / 2 ** 20).toFixed(0)} MiB${ck.manifest.random_weights ? ', RANDOM weights' : ''})`,
  );
  io.out(`sample: ${languages.join(', ')} x ${o.perLanguage} queries, styles ${styles.map((x) => x.name).join(', ')}, ${o.rounds} alternating rounds; medians`);
  const cal = await calibrateMatMul(layerShapes(ck, o), o.threads);
  const r = await benchScoring(ds, ck, labels, {
    languages,
    perLanguage: o.perLanguage,
    styles,
    patterns: o.patterns as Pattern[],
    rounds: o.rounds,
    threads: o.threads,
    batchSize: o.batchSize,
    tokenBudget: o.tokenBudget,
    onProgress: (l) => io.err(l),
  });
  io.out(scoringBenchText(r, cal, weightBytes, io.tty));
}

export interface BenchPeerOptions extends SampleOptions {
  peerModel: string;
  python: string[];
  precisions: string[];
  costLanguages?: string[];
}

/** `mlama bench peer`: the harness against the authors' pattern in PyTorch on the same model, and the cost model. */
export async function benchPeerCommand(o: BenchPeerOptions, io: Io): Promise<void> {
  for (const p of o.precisions) if (p !== 'float32' && p !== 'int8') fail(`--precisions: unknown precision "${p}" (float32, int8)`);
  // The sample's files are parsed once, as a run parses its languages once (holding): every round still builds
  // its queries (tokenizing, entity lookup) inside its timed span, but not by re-reading whole files.
  const ctx = sampleContext(o, true);
  const { ck } = ctx;
  const costLanguages = resolveLanguages(ctx.ds, o.costLanguages ?? ctx.ds.languages);
  const graphs: HarnessGraph[] = o.precisions.map((p) => ({ name: p === 'float32' ? 'harness' : 'harness-int8', ck: atPrecision(ck, p as Precision) }));
  const c = ck.config;
  io.out(`machine: ${machine(o.threads)}`);
  io.out(
    `checkpoint: ${o.model} (hidden ${c.hidden_size}, ${c.num_hidden_layers} layers, word vocab ${c.vocab_size}, entities ${c.entity_vocab_size}${ck.manifest.random_weights ? ', RANDOM weights' : ''}); peer: ${o.peerModel}`,
  );
  io.out(
    `sample: ${ctx.languages.join(', ')} x ${o.perLanguage} queries, styles ${ctx.styles.map((x) => x.name).join(', ')}, ${o.rounds} alternating rounds; medians; peer batch 8, harness batch ${o.batchSize} / ${o.tokenBudget} tokens`,
  );
  const shapes = layerShapes(ck, o);
  const { libs, chosen, peer } = await peerLibraries(o.python, o.peerModel, o.threads, shapes, (l) => io.err(l));
  let dir: string | undefined;
  try {
    dir = mkdtempSync(join(tmpdir(), 'mlama-peer-'));
    // onnxruntime's MatMul ceiling is measured just before and just after every float32 harness round: on a
    // shared machine it moves by 20% within minutes, so each round is divided by the ceiling of its moment.
    const calibrations: Calibration[] = [];
    const ceiling = async () => {
      const cal = await calibrateMatMul(shapes, o.threads);
      calibrations.push(cal);
      return cal;
    };
    const r = await benchPeer(ctx.ds, ctx.labels, graphs, peer, {
      ...o,
      languages: ctx.languages,
      styles: ctx.styles,
      queriesFile: join(dir, 'queries.jsonl'),
      onProgress: (l) => io.err(l),
      ceiling,
    });
    io.err(`onnxruntime MatMul ceiling: ${calibrations.map((x) => x.gflops.toFixed(1)).join(', ')} GFLOP/s, before and after each float32 harness round`);
    const costs = languageCosts(ctx.ds, costLanguages, ck, ctx.labels, ctx.styles, r);
    io.out(peerBenchText(r, medianCalibration(calibrations), libs, chosen, costs, io.tty));
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
    peer.stop();
  }
}
