import { familyP, regressed } from './gate.js';
import { maxDropFor, type GatePolicy } from './policy.js';

/**
 * Null comparisons: paired answers drawn with each cell's observed size and discordance, every discordant pair a
 * loss or a gain with probability 1/2 (no change), judged by the gate's regression rule. The share of draws with
 * any regressed cell or pooled test is the family-wise false-alarm rate, which Holm's correction keeps <= alpha.
 */
export interface NullCell {
  language: string;
  paired: number;
  discordance: number;
}

export interface NullResult {
  simulations: number;
  /** Draws with a false alarm under the policy's allowed drops. */
  alarms: number;
  /** Draws with a false alarm if any significant drop counted (allowed drop 0): the test's own error rate. */
  alarmsAnyDrop: number;
}

/** mulberry32: a small seeded generator, so a simulation is the same on every machine. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function simulateNull(cells: NullCell[], policy: GatePolicy, simulations: number, seed = 1): NullResult {
  const next = random(seed);
  let alarms = 0;
  let alarmsAnyDrop = 0;
  for (let s = 0; s < simulations; s++) {
    const drawn = cells.map((c) => {
      let losses = 0;
      let gains = 0;
      for (let i = 0; i < c.paired; i++) {
        if (next() >= c.discordance) continue;
        if (next() < 0.5) losses++;
        else gains++;
      }
      return { language: c.language, paired: c.paired, losses, gains };
    });
    const p = familyP(drawn);
    const delta = (x: { paired: number; losses: number; gains: number }) => (x.paired ? (100 * (x.gains - x.losses)) / x.paired : 0);
    const pooled = drawn.reduce((t, x) => ({ paired: t.paired + x.paired, losses: t.losses + x.losses, gains: t.gains + x.gains }), {
      paired: 0,
      losses: 0,
      gains: 0,
    });
    const all = [
      ...drawn.map((x, i) => ({ d: delta(x), p: p[i], max: maxDropFor(policy, x.language) })),
      { d: delta(pooled), p: p[drawn.length], max: maxDropFor(policy, null) },
    ];
    if (all.some((x) => regressed(x.d, x.p, x.max, policy.alpha))) alarms++;
    if (all.some((x) => regressed(x.d, x.p, 0, policy.alpha))) alarmsAnyDrop++;
  }
  return { simulations, alarms, alarmsAnyDrop };
}
