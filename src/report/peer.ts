import type { PeerBench, SideMeasure } from '../bench/peer.js';
import { top1Agreement } from '../bench/peer.js';
import { type Calibration, pairedMfu } from '../bench/calibrate.js';
import { median } from '../bench/measure.js';
import type { LanguageCost, PeerLibrary } from '../bench/peerSetup.js';
import { renderTable } from './table.js';

export type { LanguageCost, PeerLibrary } from '../bench/peerSetup.js';

/** Fixed decimals: a whole number prints as 2.00 beside 2.13, in a table cell and in the summary lines. */
const f = (x: number, d = 2) => x.toFixed(d);

export interface PeerSummary {
  wordSpeedup: number;
  entitySpeedup: number;
  top1Agreement: number;
  mfuExported: number;
  int8Speedup: number;
  int8Top1Agreement: number;
}

const find = (r: PeerBench, side: string, style: string): SideMeasure | undefined => r.measures.find((m) => m.side === side && m.style === style);
const ratio = (r: PeerBench, a: string, b: string, style: string) => {
  const x = find(r, a, style);
  const y = find(r, b, style);
  return x && y ? x.queriesPerSecond / y.queriesPerSecond : NaN;
};

/** Seconds of a side over all its styles at the median rounds; its useful GFLOP/s over all of them. */
function sideRate(r: PeerBench, side: string): number {
  const ms = r.measures.filter((m) => m.side === side);
  const secs = ms.reduce((s, m) => s + m.queries / m.queriesPerSecond, 0);
  return ms.reduce((s, m) => s + (m.gflops * m.queries) / m.queriesPerSecond, 0) / secs;
}

function agreementOf(r: PeerBench, a: string, b: string): { compared: number; same: number; maxScoreDiff: number } {
  const x = r.top1.get(a);
  const y = r.top1.get(b);
  return x && y ? top1Agreement(x, y) : { compared: 0, same: 0, maxScoreDiff: NaN };
}

export function peerSummary(r: PeerBench, ort: Calibration): PeerSummary {
  const t = agreementOf(r, 'harness', 'peer');
  const q = agreementOf(r, 'harness-int8', 'harness');
  const styles = [...new Set(r.measures.map((m) => m.style))];
  const total = (side: string) => styles.reduce((s, st) => s + (find(r, side, st) ? find(r, side, st)!.queries / find(r, side, st)!.queriesPerSecond : NaN), 0);
  return {
    wordSpeedup: ratio(r, 'harness', 'peer', 'word'),
    entitySpeedup: ratio(r, 'harness', 'peer', styles.find((s) => s.startsWith('entity')) ?? 'entity'),
    top1Agreement: t.same / t.compared,
    // Each round against the ceiling measured beside it where the run paired them; else one ceiling for all.
    mfuExported: r.paired.length ? pairedMfu(r.paired).mfu : sideRate(r, 'harness') / ort.gflops,
    int8Speedup: r.measures.some((m) => m.side === 'harness-int8') ? total('harness') / total('harness-int8') : NaN,
    int8Top1Agreement: q.compared ? q.same / q.compared : NaN,
  };
}

const rates = (c: Calibration) => c.shapes.map((s) => `[${s.m}x${s.k}]x[${s.k}x${s.n}] ${f(s.gflops, 1)}`).join(', ');

export function peerBenchText(r: PeerBench, ort: Calibration, libs: PeerLibrary[], chosen: PeerLibrary, costs: LanguageCost[], colour: boolean): string {
  const rows = r.measures.map((m) => [
    m.style,
    m.side,
    m.queries,
    m.seconds.map((s) => s.toFixed(1)).join(' '),
    f(m.queriesPerSecond, 2),
    m.side === 'peer' ? '-' : f(ratio(r, m.side, 'peer', m.style), 2),
    f(m.gflops, 1),
    f(m.gflops / ort.gflops, 3),
  ]);
  const s = peerSummary(r, ort);
  const lines = [
    ...libs.map(
      (l) =>
        `float32 MatMul, torch ${l.torch} (${l.python}, ${l.threads} threads): ${rates(l.calibration)} GFLOP/s; weighted ${f(l.calibration.gflops, 1)}${l === chosen ? '  <- the peer runs on this one' : ''}`,
    ),
    `float32 MatMul, onnxruntime (same shapes and threads): ${rates(ort)} GFLOP/s; weighted ${f(ort.gflops, 1)}${r.paired.length ? ' (the median ceiling; MFU pairs each round with its own, below)' : ' (the MFU ceiling)'}`,
    `peer model load: ${f(chosen.loadSeconds, 1)} s (once, not timed in the rounds)`,
    renderTable(['style', 'side', 'queries', 'seconds per round', 'queries/s (median)', 'speedup over peer', 'useful GFLOP/s', 'of ORT MatMul'], rows, {
      colour,
    }),
  ];
  const built = r.measures.filter((m) => m.buildSeconds?.length && m.side === 'harness');
  if (built.length)
    lines.push(
      `harness query building per round (tokenizing, entity lookup), not in the seconds above since the peer is handed the prompts built: ${built.map((m) => `${m.style} ${f(median(m.buildSeconds!), 2)} s`).join(', ')} (median)`,
    );
  if (r.paired.length) {
    const { perRound, mfu } = pairedMfu(r.paired);
    const each = r.paired.map(
      (p, i) => `${f(perRound[i].rate, 1)} / ${f(perRound[i].ceiling, 1)} (${f(p.before.gflops, 1)}, ${f(p.after.gflops, 1)}) = ${f(perRound[i].mfu, 3)}`,
    );
    lines.push(
      `MFU, harness float32 per round: useful GFLOP/s over the mean of onnxruntime's MatMul rate just before and just after it: ${each.join('; ')}; median ${f(mfu, 3)}`,
    );
  }
  const t = agreementOf(r, 'harness', 'peer');
  lines.push(
    `top-1 agreement, harness (onnxruntime, exported graph) vs peer (PyTorch): ${t.same}/${t.compared}; max top-1 score difference where they agree ${t.maxScoreDiff.toExponential(1)}`,
  );
  const q = agreementOf(r, 'harness-int8', 'harness');
  if (q.compared)
    lines.push(
      `top-1 agreement, int8 vs float32 graph: ${q.same}/${q.compared}; max top-1 score difference where they agree ${q.maxScoreDiff.toExponential(1)}`,
    );
  if (costs.length) {
    const mean = costs.reduce((a, c) => a + c.seconds, 0) / costs.length;
    const hours21 = (21 * mean) / 3600;
    lines.push(
      renderTable(
        ['language', 'queries (each style)', 'estimated minutes, all styles'],
        costs.map((c) => [c.language, c.queries, f(c.seconds / 60, 1)]),
        { colour },
      ),
      `cost model (harness, float32, this machine's threads): one language in ${[...r.flops.keys()].join(' + ')} takes ${f(mean / 60, 1)} min on average (useful FLOPs of all its queries / the rate measured per style); all 21 mLUKE languages of mLAMA, taking the mean of these ${costs.length} for each: ${f(hours21, 2)} h on one such process, so ${Math.ceil(hours21)} shards finish within one hour`,
    );
  }
  lines.push(`peak RSS (harness process) ${f(r.peakRssMb, 0)} MiB`);
  lines.push(
    `peer: word_speedup=${f(s.wordSpeedup, 2)} entity_speedup=${f(s.entitySpeedup, 2)} top1_agreement=${f(s.top1Agreement, 3)} mfu_exported=${f(s.mfuExported, 3)} int8_speedup=${f(s.int8Speedup, 2)} int8_top1_agreement=${f(s.int8Top1Agreement, 3)}`,
  );
  return lines.join('\n');
}
