import type { Command } from 'commander';
import { ExitStatus, fail } from '../../errors.js';
import { DEFAULT_DB, compareDifferences } from '../../run/config.js';
import { findRun, readResults, requireRun, withStore, type RunRecord, type Store } from '../../store/db.js';
import { compareTable } from '../../report/render.js';
import { gateGaps, pairedDeltas, pairStyles, pooledDelta, pooledLine, type PairedDelta } from '../../report/compare.js';
import { COMPARE_METRICS, compareMetric } from '../../report/metrics.js';
import { GATE_EXIT, judge, type CellCounts } from '../../gate/gate.js';
import { DEFAULT_POLICY, readPolicy, type GatePolicy } from '../../gate/policy.js';
import { compareHeader, gateJunit, gateLines, gateMarkdown, gateTable, overall, type Compared } from '../../gate/render.js';
import { points, type Io } from '../io.js';
import { formatOption } from '../../report/formatOption.js';
import { refuseAmbiguousRef, styleNames } from '../runref.js';

export interface CompareOptions {
  db: string;
  failOnDrop?: number;
  gate?: string;
  alpha?: number;
  power?: number;
  force?: boolean;
  /** A key of COMPARE_METRICS; absent: the gate file's metric, else P@1. */
  metric?: string;
  format: CompareFormat;
}

const FORMAT = formatOption(['table', 'json', 'markdown', 'junit'] as const, {
  markdown: 'a summary for a CI page',
  junit: 'JUnit XML of a gate: a test case per cell, the pooled test and each gap',
});
type CompareFormat = ReturnType<typeof FORMAT.parse>;

function fraction(flag: string): (v: string) => number {
  return (v) => {
    const x = Number(v);
    if (!/^\s*(0?\.\d+|0|1)\s*$/.test(v) || !(x > 0 && x < 1)) fail(`${flag} must be a number between 0 and 1 such as 0.05, got "${v}"`);
    return x;
  };
}

export function registerCompare(program: Command, io: Io): void {
  program
    .command('compare')
    .description(
      'P@1 (or --metric) deltas between two runs, paired per query, with an exact McNemar test; RUN:STYLE pairs one style of each run (mluke:entity xlmr:word); a bare RUN pairs the styles both runs have',
    )
    .argument('<runA>', 'baseline run (name or id), optionally :STYLE')
    .argument('<runB>', 'candidate run (name or id), optionally :STYLE')
    .option('--db <file>', 'results database', DEFAULT_DB)
    .option(
      '--fail-on-drop <points>',
      "gate: the allowed drop in points of the metric (overrides the gate file's default); exit 0 pass, 1 regressed, 4 inconclusive (docs/GATE.md)",
      points,
    )
    .option('--gate <file>', 'gate policy file (JSON: alpha, power, metric, max_drop per language, styles, sample); see docs/GATE.md')
    .option(
      '--metric <key>',
      `the per-answer hit compared and gated: ${COMPARE_METRICS.map((d) => d.key).join(' | ')} (default: the gate file's metric, else p_at_1)`,
      (v: string) => compareMetric(v).key,
    )
    .option('--alpha <a>', 'gate: family-wise error rate (default 0.05)', fraction('--alpha'))
    .option('--power <p>', 'gate: power at the allowed drop (default 0.8)', fraction('--power'))
    .option('--force', 'compare runs over different data or options anyway; says what it overrode')
    .option(FORMAT.flags, FORMAT.help, FORMAT.parse, FORMAT.default)
    .action((a: string, b: string, o: CompareOptions) => compareCommand(a, b, o, io));
}

/** RUN or RUN:STYLE: a run whose whole name has a colon wins over the split. */
function runAndStyle(store: Store, spec: string): { run: RunRecord; style?: string } {
  refuseAmbiguousRef(store, spec);
  const whole = findRun(store, spec);
  const at = spec.lastIndexOf(':');
  if (whole || at <= 0) return { run: whole ?? requireRun(store, spec) };
  const style = spec.slice(at + 1);
  const run = requireRun(store, spec.slice(0, at));
  const styles = styleNames(run);
  if (!styles.includes(style)) fail(`run "${run.name}" has no style "${style}" (it has ${styles.join(', ')})`);
  return { run, style };
}

function policyFrom(o: CompareOptions): GatePolicy | undefined {
  if (o.failOnDrop === undefined && o.gate === undefined) {
    if (o.alpha !== undefined || o.power !== undefined) fail('--alpha and --power set a gate: give --fail-on-drop or --gate too');
    return undefined;
  }
  const p = o.gate ? readPolicy(o.gate) : { ...DEFAULT_POLICY, max_drop: { ...DEFAULT_POLICY.max_drop } };
  if (o.failOnDrop !== undefined) p.max_drop = { ...p.max_drop, default: o.failOnDrop };
  if (o.metric !== undefined) p.metric = o.metric;
  if (o.alpha !== undefined) p.alpha = o.alpha;
  if (o.power !== undefined) p.power = o.power;
  return p;
}

/** The gate file's sample and styles, checked against what each run was asked: a gate fails closed on a mismatch. */
function policyGaps(p: GatePolicy, runs: RunRecord[]): string[] {
  const gaps: string[] = [];
  for (const r of runs) {
    const styles = styleNames(r);
    for (const s of p.styles ?? []) if (!styles.includes(s)) gaps.push(`run "${r.name}" has no style "${s}" that the gate judges`);
    if (p.sample) {
      const size = r.options.sample ?? null;
      const seed = r.options.seed ?? null;
      if (size !== p.sample.size || (seed ?? 1) !== p.sample.seed)
        gaps.push(`run "${r.name}" was not asked the gate's sample (--sample ${p.sample.size} --seed ${p.sample.seed}; it has sample ${size}, seed ${seed})`);
    }
  }
  return gaps;
}

/**
 * A gate over bare run names judges every style of the baseline (or the gate file's styles): one the candidate
 * lacks fails closed, as lacking queries does. A named pair (A:STYLE B:STYLE) judges that pair only.
 */
function unjudgedStyles(ra: RunRecord, rb: RunRecord, pairs: { a: string }[], named: string | undefined, p: GatePolicy): string[] {
  if (named !== undefined) return [];
  const judged = new Set(pairs.map((x) => x.a));
  return styleNames(ra)
    .filter((s) => !judged.has(s) && (!p.styles || p.styles.includes(s)))
    .map((s) => `run "${rb.name}" has no style "${s}" that the baseline "${ra.name}" has`);
}

/**
 * What refuses this compare: the runs' differences, of the style definitions only those of a style paired with
 * itself (a style left out, or paired with another style by name, is not compared as the same question).
 */
function comparedDifferences(ra: RunRecord, rb: RunRecord, pairs: { a: string; b: string }[]): string[] {
  const same = new Set(pairs.filter((p) => p.a === p.b).map((p) => p.a));
  return compareDifferences(ra, rb).filter((d) => {
    const m = /^style "(.*?)" /.exec(d);
    return !m || same.has(m[1]);
  });
}

/** A gate file's styles of which neither run has one judge nothing: the file and field are named, not the runs' styles. */
function unmatchedStyles(p: GatePolicy, file: string, ra: RunRecord, rb: RunRecord, named: string | undefined): void {
  if (!p.styles || named !== undefined) return;
  const [sa, sb] = [styleNames(ra), styleNames(rb)];
  if (p.styles.some((s) => sa.includes(s) && sb.includes(s))) return;
  fail(`${file}: styles ${JSON.stringify(p.styles)}: no style both runs have ("${ra.name}" has ${sa.join(', ')}; "${rb.name}" has ${sb.join(', ')})`);
}

/**
 * A threshold for a language neither run answered applies to nothing: a typo ("jp") would silently leave the
 * language it meant at the default, so it is refused as an unknown field is.
 */
function unmatchedLanguages(p: GatePolicy, file: string, runs: RunRecord[], rows: { language: string }[][]): void {
  const answered = new Set(rows.flatMap((rs) => rs.map((r) => r.language)));
  const stray = Object.keys(p.max_drop.languages).filter((l) => !answered.has(l));
  if (stray.length)
    fail(
      `${file}: max_drop.${stray[0]}: neither run answered language "${stray[0]}" (${runs.map((r) => `"${r.name}"`).join(' and ')} answered ${[...answered].sort().join(', ')}); a threshold that applies to nothing is refused, as an unknown field is`,
    );
}

/** `mlama compare`: paired deltas of two runs; with a gate, exit 0 pass, 1 regressed, 4 inconclusive. */
export async function compareCommand(a: string, b: string, o: CompareOptions, io: Io): Promise<void> {
  const policy = policyFrom(o);
  if (o.format === 'junit' && !policy) fail('--format junit reports a gate: give --fail-on-drop or --gate');
  const metric = compareMetric(policy?.metric ?? o.metric ?? 'p_at_1');
  await withStore(o.db, { readonly: true }, (store) => {
    const sa = runAndStyle(store, a);
    const sb = runAndStyle(store, b);
    const [ra, rb] = [sa.run, sb.run];
    for (const r of [ra, rb]) if (r.status !== 'complete') io.err(`warning: run "${r.name}" is ${r.status}`);
    if (policy && o.gate) unmatchedStyles(policy, o.gate, ra, rb, sa.style ?? sb.style);
    const styling = pairStyles(styleNames(ra), styleNames(rb), { a: sa.style, b: sb.style, only: policy?.styles }, { a: ra.name, b: rb.name });
    if (styling.pairs.length === 0)
      fail(
        sa.style || sb.style
          ? `say which style of each run to pair: ${ra.name}:STYLE ${rb.name}:STYLE (${ra.name} has ${styleNames(ra).join(', ')}; ${rb.name} has ${styleNames(rb).join(', ')})`
          : `runs "${ra.name}" and "${rb.name}" have no style in common (${styleNames(ra).join(', ')} vs ${styleNames(rb).join(', ')}); pair two with ${ra.name}:STYLE ${rb.name}:STYLE`,
      );
    const diffs = comparedDifferences(ra, rb, styling.pairs);
    if (diffs.length && !o.force) fail(`runs "${ra.name}" and "${rb.name}" differ in ${diffs.join('; ')} (use --force to compare anyway)`);
    for (const d of diffs) io.err(`warning: --force: comparing although the runs differ in ${d}`);
    const rowsA = readResults(store, ra.id);
    const rowsB = readResults(store, rb.id);
    // Without a gate, compare reports what was stored: no answer is set aside as a near tie.
    if (policy && o.gate) unmatchedLanguages(policy, o.gate, [ra, rb], [rowsA, rowsB]);
    const deltas = pairedDeltas(rowsA, rowsB, styling.pairs, policy?.tolerance ?? -1, metric);
    if (deltas.length === 0) fail(`runs "${ra.name}" and "${rb.name}" share no queries in ${styling.pairs.map((p) => `${p.a}/${p.b}`).join(', ')}`);
    const gaps = policy
      ? [
          ...gateGaps(
            { name: ra.name, rows: rowsA, status: ra.status, planned: ra.planned },
            { name: rb.name, status: rb.status, stored: rowsB.length, planned: rb.planned },
            deltas,
            styling.pairs,
          ),
          ...policyGaps(policy, [ra, rb]),
          ...unjudgedStyles(ra, rb, styling.pairs, sa.style ?? sb.style, policy),
        ]
      : [];
    const paired = deltas.reduce((s, d) => s + d.paired, 0);
    const inPairs = (rows: typeof rowsA, side: 'a' | 'b') => styling.pairs.reduce((s, p) => s + rows.filter((r) => r.style === p[side]).length, 0);
    const unpaired = { a: inPairs(rowsA, 'a') - paired, b: inPairs(rowsB, 'b') - paired };
    const { key, label } = metric;
    const compared: Compared = {
      a: ra.name,
      b: rb.name,
      pairs: styling.pairs,
      left_out: styling.leftOut,
      unpaired,
      paired,
      overridden: diffs,
      gaps,
      metric: { key, label },
    };
    const gate = policy ? judge(deltas, policy) : undefined;
    print(io, o.format, { ra, rb, compared, deltas, gate, policy });
    if (gate && GATE_EXIT[overall(gate, compared)]) throw new ExitStatus(GATE_EXIT[overall(gate, compared)]);
  });
}

function print(
  io: Io,
  format: CompareFormat,
  x: { ra: RunRecord; rb: RunRecord; compared: Compared; deltas: PairedDelta[]; gate?: ReturnType<typeof judge>; policy?: GatePolicy },
): void {
  const { compared, gate } = x;
  if (format === 'json') {
    // Each cell's values are named by the metric (p_at_1_a), in the deltas and the gate's cells alike.
    const named = <T extends CellCounts>(c: T) => {
      const { value_a, value_b, ...d } = c as T & Partial<Pick<PairedDelta, 'value_a' | 'value_b'>>;
      return { ...d, [`${compared.metric.key}_a`]: value_a ?? c.a_correct / c.paired, [`${compared.metric.key}_b`]: value_b ?? c.b_correct / c.paired };
    };
    const failing = gate ? gate.cells.filter((c) => c.outcome === 'regressed').map(named) : [];
    const body = {
      a: x.ra.name,
      b: x.rb.name,
      metric: compared.metric.key,
      compared: { pairs: compared.pairs, paired: compared.paired, left_out: compared.left_out, unpaired: compared.unpaired, overridden: compared.overridden },
      fail_on_drop: x.policy?.max_drop.default ?? null,
      policy: x.policy ?? null,
      deltas: x.deltas.map(named),
      pooled: pooledDelta(x.deltas),
      gate: gate ? { ...gate, cells: gate.cells.map(named), outcome: overall(gate, compared), exit_code: GATE_EXIT[overall(gate, compared)] } : null,
      failing,
      gate_gaps: compared.gaps,
    };
    io.out(JSON.stringify(body, null, 2));
  } else if (format === 'junit') io.out(gateJunit(gate!, compared));
  else if (format === 'markdown') {
    if (gate) io.out(gateMarkdown(gate, compared));
    else
      io.out(
        [
          `### mLAMA compare: ${x.ra.name} vs ${x.rb.name}`,
          '',
          ...compareHeader(compared),
          '',
          '```',
          compareTable(x.deltas, undefined, false, compared.metric.label),
          '```',
          '',
          pooledLine(pooledDelta(x.deltas)),
        ].join('\n'),
      );
  } else {
    io.out(`A = ${x.ra.name} (#${x.ra.id})  B = ${x.rb.name} (#${x.rb.id})`);
    for (const l of compareHeader(compared)) io.out(l);
    if (gate) {
      io.out(gateTable(gate, compared, io.tty));
      for (const l of gateLines(gate, compared)) io.out(l);
    } else {
      io.out(compareTable(x.deltas, undefined, io.tty, compared.metric.label));
      io.out(pooledLine(pooledDelta(x.deltas)));
    }
  }
}
