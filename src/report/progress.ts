import cliProgress from 'cli-progress';
import type { Progress } from '../run/evaluate.js';

/** Per-language bars (done/total, queries per second, ETA) on a terminal; one line per language otherwise. */
export function progressBars(tty: boolean, log: (s: string) => void): Progress {
  const started = new Map<string, { t0: number; done: number; base: number; total: number; bar?: cliProgress.SingleBar }>();
  const multi = tty
    ? new cliProgress.MultiBar({ format: ' {lang} [{bar}] {value}/{total} | {qps} q/s | ETA {eta_formatted}', hideCursor: true, clearOnComplete: false, etaBuffer: 50 }, cliProgress.Presets.shades_classic)
    : null;
  return {
    start(lang, total, done) {
      const bar = multi?.create(total, done, { lang: lang.padEnd(3), qps: '0.0' });
      started.set(lang, { t0: Date.now(), done, base: done, total, bar });
      if (!multi && done) log(`${lang}: resuming at ${done}/${total}`);
    },
    advance(lang, n) {
      const s = started.get(lang)!;
      s.done += n;
      const qps = ((s.done - s.base) / Math.max(1e-3, (Date.now() - s.t0) / 1000)).toFixed(1);
      s.bar?.update(s.done, { qps });
      if (!multi && s.done === s.total) log(`${lang}: ${s.done}/${s.total} answers, ${qps} q/s`);
    },
    stop() {
      multi?.stop();
    },
  };
}
