import type { PromptBench } from '../bench/prompts.js';
import type { ScoringBench, PatternMeasure } from '../bench/scoring.js';
import type { Calibration } from '../bench/calibrate.js';
import { renderTable } from './table.js';

/** Fixed decimals: a whole number prints as 2.00 beside 2.13, in a table cell and in the summary lines. */
const f = (x: number, d = 2) => x.toFixed(d);

export function promptBenchText(r: PromptBench, colour: boolean): string {
  const row = (name: string, m: PromptBench['shipped']) => [
    name,
    m.queries,
    m.passes,
    f(m.tokenizerCallsPerQuery, 1),
    m.seconds.map((s) => s.toFixed(2)).join(' '),
    f(m.queriesPerSecond, 0),
  ];
  return [
    renderTable(
      ['build', 'queries (all styles)', 'passes', 'tokenizer calls/query', 'seconds per round', 'queries/s (median)'],
      [row('cached per (language, relation, template)', r.shipped), row('re-tokenized per fact (sample)', r.perFact)],
      { colour },
    ),
    `${r.language}: ${r.shipped.queries} queries built in ${f(r.shipped.queries / r.shipped.queriesPerSecond)} s (median); ${f(r.speedup, 1)}x the per-fact rate`,
  ].join('\n');
}

export interface ScoringSummary {
  speedup: number;
  mfu: number;
  overhead: number;
  rssMb: number;
}

/** The final-line figures: word-style speedup; the shipped pattern's MFU and overhead over all its styles. */
export function scoringSummary(r: ScoringBench, cal: Calibration): ScoringSummary {
  const shipped = r.measures.filter((m) => m.pattern === 'shipped');
  const seconds = (m: PatternMeasure) => m.queries / m.queriesPerSecond;
  const total = shipped.reduce((s, m) => s + seconds(m), 0);
  const flops = shipped.reduce((s, m) => s + m.gflops * seconds(m), 0);
  const overhead = shipped.reduce((s, m) => s + m.overhead * seconds(m), 0) / total;
  const word = (p: string) => r.measures.find((m) => m.pattern === p && m.style === 'word');
  const speedup = word('shipped') && word('naive') ? word('shipped')!.queriesPerSecond / word('naive')!.queriesPerSecond : NaN;
  return { speedup, mfu: flops / total / cal.gflops, overhead, rssMb: r.peakRssMb };
}

export function scoringBenchText(r: ScoringBench, cal: Calibration, weightBytes: number, colour: boolean): string {
  const rows = r.measures.map((m) => {
    const naive = r.measures.find((n) => n.pattern === 'naive' && n.style === m.style);
    return [
      m.style,
      m.pattern,
      m.queries,
      f(m.queriesPerSecond, 1),
      naive && m.pattern === 'shipped' ? f(m.queriesPerSecond / naive.queriesPerSecond, 2) : '-',
      f(m.gflops, 1),
      f(m.gflops / cal.gflops, 3),
      f(m.overhead, 3),
      m.sessionOpenSeconds.map((s) => s.toFixed(1)).join(' '),
    ];
  });
  const s = scoringSummary(r, cal);
  const lines = [
    renderTable(['style', 'pattern', 'queries', 'queries/s', 'speedup', 'useful GFLOP/s', 'mfu', 'outside run', 'session open s'], rows, { colour }),
    `calibration: onnxruntime MatMul ${cal.shapes.map((c) => `[${c.m}x${c.k}]x[${c.k}x${c.n}] ${f(c.gflops, 1)}`).join(', ')} GFLOP/s; ceiling ${f(cal.gflops, 1)} GFLOP/s`,
  ];
  if (r.agreement.compared)
    lines.push(
      `agreement: shipped and naive give the same top-1 for ${r.agreement.same}/${r.agreement.compared} (style, query) pairs; max top-1 score difference ${r.agreement.maxScoreDiff.toExponential(1)}`,
    );
  lines.push(
    `peak RSS ${f(r.peakRssMb, 0)} MiB = ${f((r.peakRssMb * 2 ** 20) / weightBytes, 2)} x the checkpoint's weight bytes (${f(weightBytes / 2 ** 20, 0)} MiB)`,
  );
  lines.push(`speedup=${f(s.speedup, 2)} mfu=${f(s.mfu, 3)} overhead=${f(s.overhead, 3)} rss_mb=${f(s.rssMb, 0)}`);
  return lines.join('\n');
}
