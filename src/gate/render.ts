import { renderTable, type Cell } from '../report/table.js';
import { fmtP, GATE_EXIT, type CellVerdict, type GateResult, type Outcome } from './gate.js';

/** What a comparison covered, for every format: the runs, the style pairs, what was left out, what was overridden. */
export interface Compared {
  a: string;
  b: string;
  pairs: { a: string; b: string }[];
  left_out: string[];
  /** Queries of the compared styles that only one run answered (left out of every pair). */
  unpaired: { a: number; b: number };
  /** Pairs compared. */
  paired: number;
  overridden: string[];
  gaps: string[];
  /** The metric compared per answer (`compare --metric`, P@1 by default): its key and its column label. */
  metric: { key: string; label: string };
}

const f1 = (x: number) => x.toFixed(1);
const ci = (c: [number, number]) => `[${f1(c[0])}, ${f1(c[1])}]`;
const mdd = (x: number | null) => (x === null ? 'none' : f1(x));

function rowOf(c: CellVerdict | (GateResult['pooled'] & { language: string; style: string })): Cell[] {
  return [
    c.language,
    c.style,
    c.paired,
    f1((100 * c.a_correct) / c.paired),
    f1((100 * c.b_correct) / c.paired),
    f1(c.delta_points),
    ci(c.ci_points),
    c.losses,
    c.gains,
    fmtP(c.p_drop),
    fmtP(c.p_holm),
    mdd(c.mdd_points),
    c.max_drop_points,
    c.outcome,
  ];
}

const head = (c: Compared) => [
  'language',
  'style',
  'paired',
  `A ${c.metric.label}`,
  `B ${c.metric.label}`,
  'B-A pts',
  'CI pts',
  'losses',
  'gains',
  'McNemar p drop',
  'Holm p',
  'MDD pts',
  'allowed',
  'outcome',
];

/** The lines under the table: how the gate decided, then one line per cell that did not pass, then the outcome. */
export function gateLines(g: GateResult, c: Compared): string[] {
  const lines = [
    `gate: alpha ${g.alpha} family-wise (Holm over ${g.family_size} tests: ${g.family_size - 1} cells and the pooled test), power ${g.power}, ${Math.round(100 * g.confidence)}% intervals (Agresti-Min), exact one-sided McNemar; a single cell must reach p <= ${fmtP(g.per_test_alpha)}, which takes at least ${g.smallest_significant_size} discordant pairs`,
    `pooled over ${g.pooled.cells} cells: ${g.pooled.paired} pairs, ${g.pooled.losses} losses, ${g.pooled.gains} gains, B-A ${f1(g.pooled.delta_points)} pts ${ci(g.pooled.ci_points)}, Holm p=${fmtP(g.pooled.p_holm)}: ${g.pooled.outcome}`,
  ];
  const ties = g.cells.reduce((s, x) => s + x.near_ties, 0);
  // Past P@1 a hit that ends its stored list counts as near unproven (src/report/compare.ts: margin): said so.
  const past = c.metric.key === 'p_at_1' ? '' : ` at ${c.metric.label} (or hits ending their stored top list, which cannot rule that out)`;
  if (ties) lines.push(`near ties: ${ties} discordant pairs within ${g.tolerance} of flipping${past} counted for neither side`);
  for (const x of g.cells)
    if (x.outcome === 'regressed') lines.push(`FAIL: ${x.language}/${x.style} ${f1(x.delta_points)} pts (Holm p=${fmtP(x.p_holm)}): ${x.reason}`);
  if (g.pooled.outcome === 'regressed') lines.push(`FAIL: pooled ${f1(g.pooled.delta_points)} pts: ${g.pooled.reason}`);
  for (const x of g.cells) if (x.outcome === 'inconclusive') lines.push(`INCONCLUSIVE: ${x.language}/${x.style}: ${x.reason}`);
  for (const gap of c.gaps) lines.push(`FAIL: ${gap}; the gate cannot pass on what a run did not answer`);
  const outcome = overall(g, c);
  const allowed = [...new Set(g.cells.map((x) => x.max_drop_points))];
  const points = allowed.length === 1 ? `${allowed[0]} points` : 'its allowed points';
  if (outcome === 'pass') lines.push(`ok: no language dropped more than ${points} with significance, and every cell could have shown such a drop`);
  lines.push(
    `gate: ${outcome} (${g.counts.regressed} regressed, ${g.counts.inconclusive} inconclusive, ${g.counts.pass} pass of ${g.cells.length} cells) -> exit ${GATE_EXIT[outcome]}`,
  );
  return lines;
}

/** The gate's outcome with the gaps: a gap fails closed, as a regression does. */
export function overall(g: GateResult, c: Compared): Outcome {
  return c.gaps.length ? 'regressed' : g.outcome;
}

export function gateTable(g: GateResult, c: Compared, colour: boolean): string {
  return renderTable(head(c), g.cells.map(rowOf), { colour });
}

function comparedLine(c: Compared): string {
  const styles = c.pairs.map((p) => (p.a === p.b ? p.a : `${c.a}:${p.a} vs ${c.b}:${p.b}`)).join(', ');
  const unpaired = [
    ...(c.unpaired.a ? [`${c.unpaired.a} queries only ${c.a} answered`] : []),
    ...(c.unpaired.b ? [`${c.unpaired.b} only ${c.b} answered`] : []),
  ];
  const left = [...c.left_out, ...unpaired];
  return `compared ${c.a} (A) with ${c.b} (B) on ${styles}: ${c.paired} paired queries${left.length ? `; left out: ${left.join(', ')}` : ''}`;
}

export function compareHeader(c: Compared): string[] {
  return [comparedLine(c), ...c.overridden.map((o) => `--force overrode: ${o}`)];
}

const md = (s: string) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const ICON: Record<Outcome, string> = { pass: 'pass', regressed: '**REGRESSED**', inconclusive: '_inconclusive_' };

/** A summary for a CI page (GitHub's step summary, a merge-request note). */
export function gateMarkdown(g: GateResult, c: Compared): string {
  const outcome = overall(g, c);
  const cols = head(c);
  const out = [
    `### mLAMA regression gate: ${ICON[outcome]}`,
    '',
    md(comparedLine(c)),
    ...c.overridden.map((o) => `> --force overrode: ${md(o)}`),
    '',
    `| ${cols.join(' | ')} |`,
    `|${cols.map((_, i) => (i < 2 || i === cols.length - 1 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...g.cells.map(
      (x) =>
        `| ${rowOf(x)
          .map((v, i) => (i === cols.length - 1 ? ICON[x.outcome] : md(String(v))))
          .join(' | ')} |`,
    ),
    '',
    ...gateLines(g, c).map((l) => `- ${md(l)}`),
  ];
  return out.join('\n');
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** JUnit XML: one test case per cell, the pooled test and each gap; a regression fails, inconclusive is skipped. */
export function gateJunit(g: GateResult, c: Compared): string {
  const cases: string[] = [];
  const one = (name: string, outcome: Outcome, message: string) => {
    const body = outcome === 'regressed' ? `<failure message="${xml(message)}"/>` : outcome === 'inconclusive' ? `<skipped message="${xml(message)}"/>` : '';
    cases.push(`    <testcase classname="mlama.gate" name="${xml(name)}">${body}</testcase>`);
  };
  for (const x of g.cells) one(`${x.language}/${x.style}`, x.outcome, `${f1(x.delta_points)} pts ${ci(x.ci_points)}: ${x.reason}`);
  one('pooled', g.pooled.outcome, `${f1(g.pooled.delta_points)} pts ${ci(g.pooled.ci_points)}: ${g.pooled.reason}`);
  for (const gap of c.gaps) one(`complete: ${gap}`, 'regressed', gap);
  const failures = g.counts.regressed + (g.pooled.outcome === 'regressed' ? 1 : 0) + c.gaps.length;
  const skipped = g.counts.inconclusive + (g.pooled.outcome === 'inconclusive' ? 1 : 0);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="mlama gate" tests="${cases.length}" failures="${failures}" skipped="${skipped}">`,
    `  <testsuite name="${xml(`${c.a} vs ${c.b}`)}" tests="${cases.length}" failures="${failures}" skipped="${skipped}" errors="0">`,
    `    <properties><property name="metric" value="${xml(c.metric.key)}"/></properties>`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
  ].join('\n');
}
