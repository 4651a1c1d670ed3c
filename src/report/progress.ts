import cliProgress from 'cli-progress';
import type { Progress } from '../run/evaluate.js';

/** Whole seconds as 1h02m03s / 4m05s / 12s, rounded once (so never "4m60s"); "?" when unknown (never "NFs"). */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const t = Math.round(seconds);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const s = t % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  return h ? `${h}h${pad(m)}m${pad(s)}s` : m ? `${m}m${pad(s)}s` : `${s}s`;
}

/**
 * Answers per second over a sliding window that starts after the first batch: the first batch pays for session
 * start and onnxruntime's first allocations, and a rate that counts it made early ETAs several times too long.
 */
export class RateWindow {
  private samples: { t: number; done: number }[] = [];
  private adds = 0;
  constructor(
    private readonly windowMs = 60_000,
    private readonly minSpanMs = 2_000,
  ) {}
  add(t: number, done: number): void {
    // The first sample is the start; the second ends the warm-up batch and becomes the baseline.
    if (++this.adds === 2) this.samples = [];
    this.samples.push({ t, done });
    while (this.samples.length > 2 && t - this.samples[1].t >= this.windowMs) this.samples.shift();
  }
  /** Answers per second, or NaN until the window spans minSpanMs after the warm-up batch. */
  rate(): number {
    const s = this.samples;
    if (this.adds < 3 || s.length < 2) return NaN;
    const first = s[0];
    const last = s[s.length - 1];
    if (last.t - first.t < this.minSpanMs) return NaN;
    return (last.done - first.done) / ((last.t - first.t) / 1000);
  }
}

export interface ProgressOptions {
  now?: () => number;
  /** Without a terminal, one plain line per language this often (Slurm logs), and at the end of each language. */
  everyMs?: number;
  windowMs?: number;
  minSpanMs?: number;
}

/**
 * Per-language bars (done/total, answers per second, ETA) on a terminal; plain lines at a steady interval
 * otherwise. An answer is one (query, style) pair: that is what a run stores and counts.
 */
export function progressBars(tty: boolean, log: (s: string) => void, o: ProgressOptions = {}): Progress {
  const now = o.now ?? Date.now;
  const everyMs = o.everyMs ?? 30_000;
  const started = new Map<string, { done: number; total: number; rate: RateWindow; lastLine: number; bar?: cliProgress.SingleBar }>();
  const multi = tty
    ? new cliProgress.MultiBar(
        { format: ' {lang} [{bar}] {value}/{total} answers | {rate} answers/s | ETA {eta}', hideCursor: true, clearOnComplete: false },
        cliProgress.Presets.shades_classic,
      )
    : null;
  const figures = (s: { done: number; total: number; rate: RateWindow }) => {
    const r = s.rate.rate();
    return { rate: Number.isFinite(r) ? r.toFixed(1) : '?', known: Number.isFinite(r), eta: s.done >= s.total ? '0s' : formatDuration((s.total - s.done) / r) };
  };
  return {
    start(lang, total, done) {
      const t = now();
      const rate = new RateWindow(o.windowMs, o.minSpanMs);
      rate.add(t, done);
      const s = { done, total, rate, lastLine: t, bar: undefined as cliProgress.SingleBar | undefined };
      s.bar = multi?.create(total, done, { lang: lang.padEnd(3), rate: '?', eta: '?' });
      started.set(lang, s);
      if (!multi) log(done ? `${lang}: resuming at ${done}/${total} answers` : `${lang}: ${total} answers to score`);
    },
    advance(lang, n) {
      const s = started.get(lang)!;
      const t = now();
      s.done += n;
      s.rate.add(t, s.done);
      const f = figures(s);
      s.bar?.update(s.done, { rate: f.rate, eta: f.eta });
      if (multi) return;
      const finished = s.done >= s.total;
      if (finished || t - s.lastLine >= everyMs) {
        s.lastLine = t;
        // A rate not yet measured (the warm-up batch, a language done in one batch) is left out, never printed as "?".
        const rate = f.known ? `, ${f.rate} answers/s` : '';
        log(
          `${lang}: ${s.done}/${s.total} answers (${((100 * s.done) / Math.max(1, s.total)).toFixed(1)}%)${rate}${finished || !f.known ? '' : `, ETA ${f.eta}`}`,
        );
      }
    },
    stop() {
      multi?.stop();
    },
  };
}
