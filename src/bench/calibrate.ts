import { xorshift32 } from '../checkpoint-gen/weights.js';
import { ort } from '../model/session.js';
import { FLOAT, graphBuilder, weightFile } from '../checkpoint-gen/onnxWriter.js';
import { median } from './measure.js';

export interface MatMulShape {
  m: number;
  k: number;
  n: number;
}

export interface Calibration {
  shapes: (MatMulShape & { gflops: number })[];
  /** FLOP-weighted over the shapes (total FLOPs / total time): the ceiling for a layer of this model. */
  gflops: number;
}

/** Products per calibration graph: one run is then as long as a model's layers, not one product. */
const PRODUCTS = 8;

/** Encoded calibration graphs by shape: a benchmark calibrates beside every round, and building one takes seconds. */
const graphs = new Map<string, Uint8Array>();

/**
 * PRODUCTS constant-weight MatMuls of one shape on the same input, summed: constant weights as the model's linear
 * layers are (so onnxruntime pre-packs them the same way), distinct so that no optimizer merges them, and many
 * per run because a run of one product pays the call and the thread pool's wake-up on every 10 ms product, which
 * a model's graph pays once per run (on this machine that alone read the 768x768 rate as low as half of the same
 * products' rate inside a graph).
 */
function matmulGraph(s: MatMulShape, seed: number): Uint8Array {
  const key = `${s.m}x${s.k}x${s.n}|${seed}`;
  const known = graphs.get(key);
  if (known) return known;
  const g = graphBuilder(weightFile('unused'));
  const a = g.input('a', FLOAT, [s.m, s.k]);
  const ys: string[] = [];
  for (let p = 0; p < PRODUCTS; p++) {
    const next = xorshift32(seed * 1000 + p + 1);
    const w = Array.from({ length: s.k * s.n }, () => (next() - 0.5) * 0.04);
    ys.push(g.op('MatMul', [a, g.constFloat(w, [s.k, s.n])]));
  }
  g.output('y', g.op('Sum', ys), FLOAT, [s.m, s.n]);
  const bytes = g.encode('calibration matmul');
  graphs.set(key, bytes);
  return bytes;
}

/**
 * onnxruntime's own float32 MatMul throughput on this machine, with the model's shapes and the same threads:
 * per shape, the FLOPs of `reps` timed runs (of PRODUCTS products each) after a warm-up over their total time.
 * Total over total, not a median of runs, because that is how the rounds it is held against are timed: a median
 * would drop the runs a busy moment slowed and so measure a quieter machine than the one the rounds ran on.
 */
export async function calibrateMatMul(shapes: MatMulShape[], threads: number, reps = 6): Promise<Calibration> {
  const out: Calibration['shapes'] = [];
  let flops = 0;
  let seconds = 0;
  for (const [i, s] of shapes.entries()) {
    const session = await ort.InferenceSession.create(matmulGraph(s, i + 1), {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    const a = new ort.Tensor(
      'float32',
      Float32Array.from({ length: s.m * s.k }, (_, j) => ((j * 7919) % 1000) / 1000 - 0.5),
      [s.m, s.k],
    );
    for (let w = 0; w < 2; w++) await session.run({ a });
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) await session.run({ a });
    const t = (performance.now() - t0) / 1000;
    await session.release();
    const f = 2 * s.m * s.k * s.n * PRODUCTS * reps;
    out.push({ ...s, gflops: f / t / 1e9 });
    flops += f;
    seconds += t;
  }
  return { shapes: out, gflops: flops / seconds / 1e9 };
}

/** The calibration with the median weighted rate; of an even count the upper middle one (the higher ceiling). */
export function medianCalibration(cs: Calibration[]): Calibration {
  if (cs.length === 0) throw new Error('medianCalibration: no calibration');
  return [...cs].sort((a, b) => a.gflops - b.gflops)[Math.floor(cs.length / 2)];
}

/** A harness round and the ceiling measured just before and just after it, on the same machine state. */
export interface PairedRound {
  /** Useful FLOPs the round scored and the seconds it took. */
  flops: number;
  seconds: number;
  before: Calibration;
  after: Calibration;
}

/**
 * MFU as the median over rounds of each round's useful rate over its own ceiling (the mean of the calibrations
 * beside it): the ceiling of a shared machine drifts by 20% within minutes, and a ceiling taken at another
 * moment than the round it divides moves MFU by as much.
 */
export function pairedMfu(rounds: PairedRound[]): { perRound: { rate: number; ceiling: number; mfu: number }[]; mfu: number } {
  if (rounds.length === 0) throw new Error('pairedMfu: no round');
  const perRound = rounds.map((r) => {
    const rate = r.flops / r.seconds / 1e9;
    const ceiling = (r.before.gflops + r.after.gflops) / 2;
    return { rate, ceiling, mfu: rate / ceiling };
  });
  return { perRound, mfu: median(perRound.map((x) => x.mfu)) };
}
