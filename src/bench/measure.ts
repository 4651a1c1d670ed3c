import type { ModelSession } from '../model/session.js';

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Peak resident set size of this process so far, in MiB (the kernel's high-water mark). */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

export interface RunClock {
  /** Milliseconds during which at least one `session.run` was in flight. */
  busyMs: number;
  runs: number;
}

/**
 * Wraps a session so the time spent inside onnxruntime is known. Runs may overlap JavaScript work (the scorer
 * builds the next batch while one runs), so the busy time is the union of in-flight intervals, not a sum.
 */
export function timedSession(s: ModelSession): { session: ModelSession; clock: RunClock } {
  const clock: RunClock = { busyMs: 0, runs: 0 };
  let inFlight = 0;
  let since = 0;
  const session: ModelSession = {
    ...s,
    run: async (feeds) => {
      if (inFlight++ === 0) since = performance.now();
      clock.runs++;
      try {
        return await s.run(feeds);
      } finally {
        if (--inFlight === 0) clock.busyMs += performance.now() - since;
      }
    },
  };
  return { session, clock };
}
