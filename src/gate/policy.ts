import { readFileSync } from 'node:fs';
import { fail } from '../errors.js';
import { compareMetric } from '../report/metrics.js';

/**
 * A gate's policy: what drop it allows per language, at what error rate and power, on which styles and sample.
 * A CI keeps it in its repository as a gate file (`compare --gate gate.json`, docs/GATE.md); flags override it.
 */
export interface GatePolicy {
  /** Family-wise error rate: the chance that any cell of a gate with no real drop is called regressed. */
  alpha: number;
  /** Chance of detecting a drop of the allowed size; sets the minimum detectable drop. */
  power: number;
  /** The metric judged, a key of COMPARE_METRICS (src/report/metrics.ts): P@1 unless the file or `--metric` says. */
  metric: string;
  /** Allowed drop in points of the metric: a default, and per language where it differs. */
  max_drop: { default: number; languages: Record<string, number> };
  /** Scores this close are ties: an answer this close to flipping counts for neither side. */
  tolerance: number;
  /** Styles the gate judges (absent: every style both runs have). */
  styles?: string[];
  /** The sample both runs must have been asked (`mlama run --sample SIZE --seed SEED`). */
  sample?: { size: number; seed: number };
}

export const DEFAULT_POLICY: GatePolicy = { alpha: 0.05, power: 0.8, metric: 'p_at_1', max_drop: { default: 5, languages: {} }, tolerance: 1e-5 };

export function maxDropFor(p: GatePolicy, language: string | null): number {
  return (language !== null ? p.max_drop.languages[language] : undefined) ?? p.max_drop.default;
}

const FIELDS = ['alpha', 'power', 'metric', 'max_drop', 'tolerance', 'styles', 'sample'];

/** A gate file's fields checked one by one; every error is one line naming the file and the field. */
export function policyOf(value: unknown, where: string): GatePolicy {
  const bad = (field: string, want: string, got: unknown): never => fail(`${where}: ${field} must be ${want}, got ${JSON.stringify(got)}`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad('the gate file', 'a JSON object', value);
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!FIELDS.includes(k)) fail(`${where}: unknown field "${k}" (fields: ${FIELDS.join(', ')})`);
  const num = (field: string, v: unknown, ok: (x: number) => boolean, want: string) =>
    typeof v === 'number' && Number.isFinite(v) && ok(v) ? v : bad(field, want, v);
  const p: GatePolicy = { ...DEFAULT_POLICY, max_drop: { default: DEFAULT_POLICY.max_drop.default, languages: {} } };
  if (o.alpha !== undefined) p.alpha = num('alpha', o.alpha, (x) => x > 0 && x < 1, 'a number between 0 and 1');
  if (o.power !== undefined) p.power = num('power', o.power, (x) => x > 0 && x < 1, 'a number between 0 and 1');
  if (o.metric !== undefined) p.metric = compareMetric(o.metric, `${where}: metric`).key;
  if (o.tolerance !== undefined) p.tolerance = num('tolerance', o.tolerance, (x) => x >= 0, 'a non-negative number');
  const points = (field: string, v: unknown) => num(field, v, (x) => x >= 0 && x <= 100, 'a number of points from 0 to 100');
  if (typeof o.max_drop === 'number' || (o.max_drop !== undefined && (typeof o.max_drop !== 'object' || o.max_drop === null || Array.isArray(o.max_drop))))
    p.max_drop.default = points('max_drop', o.max_drop);
  else if (o.max_drop !== undefined)
    for (const [k, v] of Object.entries(o.max_drop as Record<string, unknown>)) {
      if (k === 'default') p.max_drop.default = points('max_drop.default', v);
      else p.max_drop.languages[k] = points(`max_drop.${k}`, v);
    }
  if (o.styles !== undefined) {
    if (!Array.isArray(o.styles) || o.styles.length === 0 || !o.styles.every((s) => typeof s === 'string' && s !== ''))
      bad('styles', 'a non-empty list of style names', o.styles);
    if (new Set(o.styles as string[]).size !== (o.styles as string[]).length) bad('styles', 'a list without repeats', o.styles);
    p.styles = o.styles as string[];
  }
  if (o.sample !== undefined) {
    const s = o.sample as Record<string, unknown>;
    if (typeof s !== 'object' || s === null || Array.isArray(s)) bad('sample', 'an object {"size": N, "seed": S}', s);
    for (const k of Object.keys(s)) if (k !== 'size' && k !== 'seed') fail(`${where}: unknown field "sample.${k}" (fields: size, seed)`);
    const size = num('sample.size', s.size, (x) => Number.isInteger(x) && x > 0, 'a positive integer');
    const seed = s.seed === undefined ? 1 : num('sample.seed', s.seed, (x) => Number.isInteger(x) && x >= 0, 'a non-negative integer');
    p.sample = { size, seed };
  }
  return p;
}

/** A gate file read and checked: a missing file or bad JSON is one line naming the file. */
export function readPolicy(file: string): GatePolicy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    fail(`--gate ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    fail(`${file}: not valid JSON (${(e as Error).message})`);
  }
  return policyOf(value, file);
}
