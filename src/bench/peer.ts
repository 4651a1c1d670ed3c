import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Dataset } from '../data/mlama.js';
import type { LabelIndex } from '../data/labels.js';
import { headSpec } from '../model/heads.js';
import { headWidths, type Checkpoint } from '../model/checkpoint.js';
import { scoreQueries } from '../model/scorer.js';
import { openScoringSessions } from '../model/session.js';
import type { BuiltQuery } from '../prompts/build.js';
import { languageQueries } from '../prompts/source.js';
import type { PromptStyle } from '../prompts/styles.js';
import { fail } from '../errors.js';
import type { Calibration, PairedRound } from './calibrate.js';
import { queryFlops } from './flops.js';
import { median, peakRssMb } from './measure.js';
import { sampleOf } from './scoring.js';

/** A harness graph the benchmark runs: float32 (model.onnx) or a quantised copy beside it. */
export interface HarnessGraph {
  name: string;
  ck: Checkpoint;
}

export interface PeerBenchOptions {
  languages: string[];
  perLanguage: number;
  styles: PromptStyle[];
  rounds: number;
  threads: number;
  batchSize: number;
  tokenBudget: number;
  queriesFile: string;
  onProgress?: (line: string) => void;
  /**
   * onnxruntime's MatMul ceiling, measured just before and just after each round of the first (float32) graph,
   * so that each round's MFU divides by the machine it ran on.
   */
  ceiling?: () => Promise<Calibration>;
}

export interface SideMeasure {
  side: string;
  style: string;
  queries: number;
  seconds: number[];
  queriesPerSecond: number;
  /** Useful FLOPs (flops.ts) over the median round's seconds. */
  gflops: number;
  /** Harness sides: seconds per round building the sample's queries (tokenizing, entity lookup), not in `seconds`. */
  buildSeconds?: number[];
}

export interface Top1 {
  index: number;
  score: number;
}

export interface PeerBench {
  measures: SideMeasure[];
  /** Side name -> "style|query key" -> top-1, from the first round. */
  top1: Map<string, Map<string, Top1>>;
  /** Useful FLOPs of the sample per style, for the cost model. */
  flops: Map<string, number>;
  peakRssMb: number;
  /** The first graph's rounds, each with the ceiling beside it (when `ceiling` was given). */
  paired: PairedRound[];
}

/** The peer process (tools/peer_bench.py): one JSON request a line on stdin, one JSON reply a line on stdout. */
export class Peer {
  private lines: AsyncIterableIterator<string>;
  private constructor(
    private proc: ChildProcessWithoutNullStreams,
    readonly python: string,
  ) {
    this.lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  }

  static start(python: string, model: string, threads: number, onLog: (l: string) => void): Peer {
    const proc = spawn(python, ['tools/peer_bench.py', '--model', model, '--threads', String(threads)], { stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: proc.stderr }).on('line', (l) => onLog(`peer: ${l}`));
    proc.on('error', (e) => onLog(`peer: ${python}: ${e.message}`));
    return new Peer(proc, python);
  }

  async request<T>(req: object): Promise<T> {
    this.proc.stdin.write(JSON.stringify(req) + '\n');
    const next = await this.lines.next();
    if (next.done) fail(`${this.python} tools/peer_bench.py exited before answering ${JSON.stringify(req)} (see its messages above)`);
    const reply = JSON.parse(next.value) as T & { error?: string };
    if (reply.error) fail(`peer: ${reply.error}`);
    return reply;
  }

  stop(): void {
    this.proc.stdin.end();
  }
}

/** The sample's built queries, one style after the other, as the harness builds them. */
export function buildSample(
  ds: Dataset,
  ck: Checkpoint,
  labels: LabelIndex,
  style: PromptStyle,
  o: { languages: string[]; perLanguage: number },
): BuiltQuery[] {
  return [
    ...sampleOf(
      (lang, limit) => languageQueries(ds, lang, ck.tokenizer, ck.entityVocab, labels, [style], { fallback: true, limit }),
      ds,
      o.languages,
      o.perLanguage,
    ),
  ];
}

/** The peer's input: every pass with the candidates it scores, so both sides score the very same prompts. */
export function writePeerQueries(file: string, sample: BuiltQuery[]): void {
  const lines = sample.map((b) => {
    const c = b.relation.candidates;
    return JSON.stringify({
      key: `${b.style.name}|${b.query.key}`,
      style: b.style.name,
      head: b.style.head,
      n: c.labels.length,
      cands: headSpec(b.style.head).peerCandidates(c),
      passes: b.passes.map((p) => ({ ids: p.inputIds, masks: p.maskPositions, eids: p.entityIds, epos: p.entityPositions, cands: p.candidates })),
    });
  });
  writeFileSync(file, lines.join('\n') + '\n');
}

interface PeerScore {
  styles: Record<string, { queries: number; seconds: number }>;
  top1: Record<string, [number, number]>;
}

/**
 * Alternating rounds of the harness graphs (each opened, run over the sample style by style, released) and the
 * peer (its model loaded once, before the rounds). Both sides are timed from their first batch to their last
 * ranked query on prompts built before the clock starts: the peer is handed the harness's built prompts, and the
 * harness builds its own each round, timed apart (SideMeasure.buildSeconds).
 */
export async function benchPeer(ds: Dataset, labels: LabelIndex, graphs: HarnessGraph[], peer: Peer, o: PeerBenchOptions): Promise<PeerBench> {
  const ck = graphs[0].ck;
  const samples = new Map(o.styles.map((s) => [s.name, buildSample(ds, ck, labels, s, o)]));
  const flops = new Map([...samples].map(([s, qs]) => [s, qs.reduce((t, b) => t + queryFlops(ck, b), 0)]));
  writePeerQueries(o.queriesFile, [...samples.values()].flat());
  const seconds = new Map<string, number[]>();
  const counts = new Map<string, number>();
  const top1 = new Map<string, Map<string, Top1>>();
  const builds = new Map<string, number[]>();
  const append = (m: Map<string, number[]>, k: string, x: number) => m.set(k, [...(m.get(k) ?? []), x]);
  const record = (side: string, style: string, n: number, s: number) => {
    const k = `${side}|${style}`;
    append(seconds, k, s);
    counts.set(k, n);
    o.onProgress?.(`${side} ${style}: ${n} queries in ${s.toFixed(2)} s (${(n / s).toFixed(2)} q/s)`);
  };
  const sides = ['peer', ...graphs.map((g) => g.name)];
  const paired: PairedRound[] = [];
  const roundFlops = [...flops.values()].reduce((a, b) => a + b, 0);
  for (let round = 0; round < o.rounds; round++) {
    o.onProgress?.(`round ${round + 1}/${o.rounds}`);
    for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
      const first = round === 0 ? new Map<string, Top1>() : null;
      if (side === 'peer') {
        const r = await peer.request<PeerScore>({ cmd: 'score', queries: o.queriesFile });
        for (const [style, m] of Object.entries(r.styles)) record(side, style, m.queries, m.seconds);
        if (first) for (const [k, [index, score]] of Object.entries(r.top1)) first.set(k, { index, score });
      } else {
        const g = graphs.find((x) => x.name === side)!;
        // The ceiling is measured with no scoring session open, just before it opens and just after it closes.
        const probe = g === graphs[0] ? o.ceiling : undefined;
        const before = await probe?.();
        const roundSeconds = await harnessRound(ds, labels, g, samples, o, first, {
          record: (style, n, t) => record(side, style, n, t),
          built: (style, t) => append(builds, `${side}|${style}`, t),
        });
        if (probe && before) {
          const after = await probe();
          paired.push({ flops: roundFlops, seconds: roundSeconds, before, after });
        }
      }
      if (first) top1.set(side, first);
    }
  }
  const measures: SideMeasure[] = [...seconds].map(([k, s]) => {
    const [side, style] = k.split('|');
    const mid = median(s);
    return {
      side,
      style,
      queries: counts.get(k)!,
      seconds: s,
      queriesPerSecond: counts.get(k)! / mid,
      gflops: flops.get(style)! / mid / 1e9,
      buildSeconds: builds.get(k),
    };
  });
  return { measures, top1, flops, peakRssMb: peakRssMb(), paired };
}

/**
 * One timed round of a harness graph: its sessions opened, one untimed warm-up query per style, then each style's
 * sample built (timed apart) and scored (timed). Returns the seconds spent scoring; top-1s go to `first`.
 */
async function harnessRound(
  ds: Dataset,
  labels: LabelIndex,
  g: HarnessGraph,
  samples: Map<string, BuiltQuery[]>,
  o: PeerBenchOptions,
  first: Map<string, Top1> | null,
  rec: { record(style: string, n: number, seconds: number): void; built(style: string, seconds: number): void },
): Promise<number> {
  let roundSeconds = 0;
  const opened = await openScoringSessions(g.ck, o.styles, { threads: o.threads });
  const scoring = {
    batchSize: o.batchSize,
    tokenBudget: o.tokenBudget,
    headWidths: headWidths(g.ck),
    padEntityId: g.ck.entityVocab?.special.pad ?? 0,
    words: opened.words,
  };
  try {
    // One untimed query per style first: a fresh session's first runs size its arena and pick kernels, a
    // cost a real run pays once, and the peer's model is already warm after its first round.
    const warm = o.styles.map((s) => samples.get(s.name)![0]).filter((b) => b !== undefined);
    for await (const _ of scoreQueries(opened.gathered, warm, scoring));
    for (const style of o.styles) {
      // Built before the clock starts, as the peer's prompts are: both sides are timed scoring the same
      // ready-made prompts. The building is timed apart and printed beside.
      const tb = performance.now();
      const qs = buildSample(ds, g.ck, labels, style, o);
      rec.built(style.name, (performance.now() - tb) / 1000);
      const t0 = performance.now();
      let n = 0;
      for await (const batch of scoreQueries(opened.gathered, qs, scoring)) {
        for (const s of batch) {
          n++;
          first?.set(`${style.name}|${s.built.query.key}`, { index: s.top[0].index, score: s.top[0].score });
        }
      }
      const s = (performance.now() - t0) / 1000;
      roundSeconds += s;
      rec.record(style.name, n, s);
    }
  } finally {
    await opened.release();
  }
  return roundSeconds;
}

/** Share of keys of `a` whose top-1 candidate is the same in `b`, and the largest top-1 score difference then. */
export function top1Agreement(a: Map<string, Top1>, b: Map<string, Top1>): { compared: number; same: number; maxScoreDiff: number } {
  let compared = 0;
  let same = 0;
  let maxScoreDiff = 0;
  for (const [k, x] of a) {
    const y = b.get(k);
    if (!y) continue;
    compared++;
    if (x.index === y.index) {
      same++;
      const d = Math.abs(x.score - y.score);
      if (Number.isFinite(d)) maxScoreDiff = Math.max(maxScoreDiff, d);
    }
  }
  return { compared, same, maxScoreDiff };
}
