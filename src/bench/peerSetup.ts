import type { Dataset } from '../data/mlama.js';
import type { LabelIndex } from '../data/labels.js';
import type { Checkpoint } from '../model/checkpoint.js';
import { languageQueries } from '../prompts/source.js';
import type { PromptStyle } from '../prompts/styles.js';
import type { Calibration, MatMulShape } from './calibrate.js';
import { queryFlops } from './flops.js';
import { Peer, type PeerBench } from './peer.js';

export interface PeerLibrary {
  python: string;
  torch: string;
  threads: number;
  loadSeconds: number;
  calibration: Calibration;
}

export interface LanguageCost {
  language: string;
  queries: number;
  /** Seconds for every query of the language in every style, from useful FLOPs / the measured rate per style. */
  seconds: number;
}

interface Calibrated {
  torch: string;
  threads: number;
  shapes: Calibration['shapes'];
}

/**
 * Starts the peer under each interpreter in turn and measures its torch's float32 MatMul at the model's shapes;
 * the fastest loads the model and is kept (one peer model in memory, none for the slower torch).
 */
export async function peerLibraries(
  pythons: string[],
  model: string,
  threads: number,
  shapes: MatMulShape[],
  log: (l: string) => void,
): Promise<{ libs: PeerLibrary[]; chosen: PeerLibrary; peer: Peer }> {
  const libs: PeerLibrary[] = [];
  let best: { lib: PeerLibrary; peer: Peer } | null = null;
  for (const python of pythons) {
    log(`peer: float32 MatMul with ${python}`);
    const peer = Peer.start(python, model, threads, log);
    const cal = await peer.request<Calibrated>({ cmd: 'calibrate', shapes: shapes.map((s) => [s.m, s.k, s.n]) });
    const flops = cal.shapes.reduce((s, c) => s + 2 * c.m * c.k * c.n, 0);
    const seconds = cal.shapes.reduce((s, c) => s + (2 * c.m * c.k * c.n) / (c.gflops * 1e9), 0);
    const lib: PeerLibrary = {
      python,
      torch: cal.torch,
      threads: cal.threads,
      loadSeconds: NaN,
      calibration: { shapes: cal.shapes, gflops: flops / seconds / 1e9 },
    };
    libs.push(lib);
    if (!best || lib.calibration.gflops > best.lib.calibration.gflops) {
      best?.peer.stop();
      best = { lib, peer };
    } else {
      peer.stop();
    }
  }
  log(`peer: loading ${model} with ${best!.lib.python}`);
  best!.lib.loadSeconds = (await best!.peer.request<{ load_seconds: number }>({ cmd: 'load' })).load_seconds;
  return { libs, chosen: best!.lib, peer: best!.peer };
}

/**
 * The measured cost model: every query of each language built as a run builds it, its useful FLOPs counted,
 * and divided by the harness's useful FLOP rate measured on the sample for that style.
 */
export function languageCosts(ds: Dataset, languages: string[], ck: Checkpoint, labels: LabelIndex, styles: PromptStyle[], r: PeerBench): LanguageCost[] {
  const rate = new Map(r.measures.filter((m) => m.side === 'harness').map((m) => [m.style, m.gflops * 1e9]));
  return languages.map((language) => {
    let seconds = 0;
    let queries = 0;
    for (const style of styles) {
      let n = 0;
      for (const b of languageQueries(ds, language, ck.tokenizer, ck.entityVocab, labels, [style], { fallback: false })) {
        seconds += queryFlops(ck, b) / rate.get(style.name)!;
        n++;
      }
      queries = Math.max(queries, n);
    }
    return { language, queries, seconds };
  });
}
