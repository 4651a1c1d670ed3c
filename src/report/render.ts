import { relative } from 'node:path';
import chalk, { Chalk } from 'chalk';
import type { RunRecord } from '../store/db.js';
import { pct } from '../stats.js';
import type { ShardPlan } from '../run/costs.js';
import { shardName } from '../run/shard.js';
import type { PairedDelta } from './compare.js';
import type { Head } from '../model/contract.js';
import { loadStyle } from '../prompts/styles.js';
import { precisionNote } from './precision.js';
import { protocolOf } from '../run/protocols.js';
import { protocolMetricLines, type ProtocolMetrics } from './protocolMetrics.js';
import { METRICS, metricsFor, type RelationMetrics, type StyleMetrics } from './metrics.js';
import { renderTable, toCsv, type Cell } from './table.js';
import type { LinkCounts } from '../tokenize/entityLinker.js';

export interface Report {
  run: {
    id: number;
    name: string;
    status: string;
    random_weights: boolean;
    started_at: string;
    finished_at: string | null;
    options: Record<string, unknown>;
    checkpoint: Record<string, string>;
    /** The data's fingerprint per language read: tells runs over other data apart. */
    dataset?: Record<string, string>;
    label?: string | null;
    model?: string | null;
    data?: string | null;
  };
  languages: StyleMetrics[];
  averages: StyleMetrics[];
  relations: RelationMetrics[];
  /** The head each style reads: it chooses the style's columns. */
  heads: Record<string, Head>;
  /** Languages the run planned but holds only partly (stored < planned answers) or not at all (stored 0). */
  partial: { language: string; stored: number; planned: number }[];
  /** The run's numbers as its protocol computes them (not for the paper's, whose numbers are the table). */
  protocol?: ProtocolMetrics;
}

/**
 * A style's head as stored with the run (its definition when it ran); for runs stored before definitions were
 * kept, from its file, and a style no longer found is taken as entity-headed when some query was uncovered.
 */
export function headOf(style: string, ms: StyleMetrics[], options: Record<string, unknown> = {}): Head {
  const stored = (options.style_definitions as Record<string, { head?: unknown }> | undefined)?.[style]?.head;
  if (stored === 'word' || stored === 'entity') return stored;
  try {
    return loadStyle(style).head;
  } catch {
    return ms.some((m) => m.style === style && m.entity_coverage < 1) ? 'entity' : 'word';
  }
}

export function reportOf(run: RunRecord, languages: StyleMetrics[], averages: StyleMetrics[], relations: RelationMetrics[]): Report {
  const { id, name, status, random_weights, started_at, finished_at, options, checkpoint } = run;
  const heads = Object.fromEntries([...new Set(languages.map((m) => m.style))].map((s) => [s, headOf(s, languages, options)]));
  const plan = (options.planned_languages ?? {}) as Record<string, number>;
  const partial = Object.entries(plan)
    .map(([language, planned]) => ({ language, planned, stored: languages.filter((m) => m.language === language).reduce((a, m) => a + m.queries, 0) }))
    .filter((p) => p.stored < p.planned)
    .sort((a, b) => a.language.localeCompare(b.language));
  return {
    run: {
      id,
      name,
      status,
      random_weights,
      started_at,
      finished_at,
      options,
      checkpoint,
      dataset: run.dataset,
      label: run.label ?? null,
      model: run.model_path ?? null,
      data: run.data_path ?? null,
    },
    languages,
    averages,
    relations,
    heads,
    partial,
  };
}

/** Stored paths are absolute; under the working directory they read better relative to it. */
const shortPath = (p: string) => (relative(process.cwd(), p).startsWith('..') ? p : relative(process.cwd(), p) || '.');

/** A metric's cell: undefined values (P@1 covered with nothing covered) show as '-', never as 0. */
const metricCell = (v: string | number | null | undefined): Cell => (v === null || v === undefined ? '-' : pct(Number(v)));

/**
 * One row per language: each style's table metrics for its head (P@1 and P@10; coverage and P@1 covered for an
 * entity head), and the first entity-head style's P@1 minus the first word-head style's.
 */
export function languageTable(r: Report): { head: string[]; rows: Cell[][] } {
  const present = new Set(r.languages.map((m) => m.style));
  const styles = [
    ...((r.run.options.styles as string[] | undefined) ?? []).filter((s) => present.has(s)),
    ...[...present].filter((s) => !((r.run.options.styles as string[] | undefined) ?? []).includes(s)),
  ];
  const headOfStyle = (s: string) => r.heads?.[s] ?? headOf(s, r.languages, r.run.options);
  const entityStyle = styles.find((s) => headOfStyle(s) === 'entity');
  const wordStyle = styles.find((s) => headOfStyle(s) === 'word');
  const columns = (s: string) => metricsFor(headOfStyle(s)).filter((d) => d.inTable && d.heads === null);
  const extra = (s: string) => metricsFor(headOfStyle(s)).filter((d) => d.inTable && d.heads !== null);
  const head = ['language', 'queries', ...styles.flatMap((s) => columns(s).map((d) => `${s} ${d.label}`))];
  if (wordStyle && entityStyle) head.push(`${entityStyle}-${wordStyle}`);
  if (entityStyle) head.push(...extra(entityStyle).map((d) => `${entityStyle} ${d.label}`));
  const rows = [...r.languages, ...r.averages.map((a) => ({ ...a, language: a.language }))].reduce((acc, m) => {
    (acc.get(m.language) ?? acc.set(m.language, new Map()).get(m.language)!).set(m.style, m);
    return acc;
  }, new Map<string, Map<string, StyleMetrics>>());
  const out: Cell[][] = [];
  const partial = new Set(r.partial.map((p) => p.language));
  for (const [lang, byStyle] of rows) {
    // Unique questions: the same for every style of a complete language; the most any style holds otherwise.
    const queries = Math.max(...[...byStyle.values()].map((m) => m.queries));
    const label = lang === 'average' ? `average (languages${r.partial.length ? '; partial' : ''})` : partial.has(lang) ? `${lang} (partial)` : lang;
    const row: Cell[] = [label, queries];
    for (const s of styles) for (const d of columns(s)) row.push(byStyle.has(s) ? metricCell(byStyle.get(s)![d.key]) : '-');
    if (wordStyle && entityStyle) {
      const w = byStyle.get(wordStyle);
      const e = byStyle.get(entityStyle);
      row.push(w && e ? pct(e.p_at_1 - w.p_at_1) : '-');
    }
    if (entityStyle) {
      const e = byStyle.get(entityStyle);
      for (const d of extra(entityStyle)) row.push(e ? metricCell(e[d.key]) : '-');
    }
    out.push(row);
  }
  return { head, rows: out };
}

export function renderReportTable(r: Report, colour: boolean): string {
  const c = colour ? chalk : new Chalk({ level: 0 });
  const lines: string[] = [];
  lines.push(
    c.bold(`run ${r.run.name} (#${r.run.id}, ${r.run.status})`) +
      `${r.run.label ? `  "${r.run.label}"` : ''}  styles ${JSON.stringify(r.run.options.styles)}${precisionNote(r.run.options, '  ')}  numbers in %`,
  );
  if (r.run.model) lines.push(`model ${shortPath(r.run.model)}  data ${shortPath(r.run.data ?? '')}`);
  lines.push(protocolLine(r.run.options.protocol));
  if (Object.values(r.heads).includes('entity') || ((r.run.options.styles as string[] | undefined) ?? []).some((s) => s.startsWith('entity')))
    lines.push(lookupLine(r.run.options.fallback === true));
  if (r.run.random_weights)
    lines.push(
      c.yellow('note: this checkpoint has RANDOM weights (generated by mlama make-checkpoint): the numbers show the harness works, not what any model knows.'),
    );
  const t = languageTable(r);
  lines.push(renderTable(t.head, t.rows, { colour }));
  if (r.protocol) lines.push(...protocolMetricLines(r.protocol));
  if (r.partial.length)
    lines.push(
      c.yellow(
        `note: the run holds part of ${r.partial.map((p) => `${p.language} (${p.stored}/${p.planned} answers)`).join(', ')}: those rows and the average cover only what is stored.`,
      ),
    );
  const tooLong = r.languages.filter((m) => m.too_long > 0);
  if (tooLong.length)
    lines.push(
      c.yellow(
        `note: ${tooLong.map((m) => `${m.language}/${m.style} ${m.too_long}`).join(', ')} queries were longer than the model's positions: not scored, counted wrong.`,
      ),
    );
  // The metrics left out of the table, named from the metric table so that an added one is named too.
  const rest = METRICS.filter((d) => !d.inTable).map((d) => d.label);
  lines.push(
    `queries: unique (relation, template, subject) questions; a run stores one answer per query and style. P@k over queries; "average (languages)" weighs each language equally (its queries are their sum). ${rest.slice(0, -1).join(', ')} and ${rest.at(-1)} are in --format json/csv.`,
  );
  return lines.join('\n');
}

/** The run's protocol by name, with what it bundles: a run stored before protocols existed ran the paper's. */
export function protocolLine(stored: unknown): string {
  const p = protocolOf(typeof stored === 'string' ? stored : null);
  return `protocol: ${p.name} (${p.summary}; docs/PROTOCOLS.md)`;
}

/** How entity styles found their entities: the paper's `<lang>:<title>` lookup, or with the Wikidata-id fallback. */
export function lookupLine(fallback: boolean, counts?: LinkCounts): string {
  const how = fallback
    ? "entity lookup: <lang>:<title>, then the Wikidata-id fallback (other languages' labels: en, then A-Z; homographs refused) - not the paper's protocol"
    : "entity lookup: <lang>:<title> in the query's language (the paper's protocol; --fallback not used)";
  if (!counts) return how;
  const n = counts.direct + counts.fallback + counts.refused + counts.none;
  return `${how}; candidate labels: ${counts.direct}/${n} direct${fallback ? `, ${counts.fallback} resolved by the fallback, ${counts.refused} refused as homographs` : ''}, ${counts.none + counts.refused} without an entity`;
}

/** The per-relation columns: the table metrics every head has. */
export function relationColumns(): { head: string[]; row: (m: RelationMetrics) => Cell[] } {
  const defs = METRICS.filter((d) => d.inTable && d.heads === null);
  return {
    head: ['language', 'style', 'relation', 'queries', ...defs.map((d) => d.label)],
    row: (m) => [m.language, m.style, m.relation, m.queries, ...defs.map((d) => metricCell(m[d.key]))],
  };
}

export function relationTable(r: Report, colour: boolean): string {
  const c = relationColumns();
  return renderTable(c.head, r.relations.map(c.row), { colour });
}

/** Every metric of the table, one row per language and style, as fractions. */
export function reportCsv(r: Report): string {
  const partial = new Set(r.partial.map((p) => p.language));
  const head = ['run', 'language', 'style', 'partial', 'queries', ...METRICS.map((d) => d.key)];
  return toCsv(
    head,
    [...r.languages, ...r.averages].map((m) => [
      r.run.name,
      m.language,
      m.style,
      String(m.language === 'average' ? r.partial.length > 0 : partial.has(m.language)),
      m.queries,
      ...METRICS.map((d) => m[d.key] ?? ''),
    ]),
  );
}

/** Compare's cells; `label` names the compared metric in the columns of each run's value. */
export function compareTable(deltas: PairedDelta[], failOn: number | undefined, colour: boolean, label = 'P@1'): string {
  const c = colour ? chalk : new Chalk({ level: 0 });
  const rows = deltas.map((d) => {
    const flagged = failOn !== undefined && d.delta_points < -failOn && d.p_value < 0.05;
    return [
      d.language,
      d.style,
      d.paired,
      pct(d.value_a),
      pct(d.value_b),
      (flagged ? c.red : (x: string) => x)(d.delta_points.toFixed(1)),
      d.a_only,
      d.b_only,
      d.p_value < 0.001 ? '<0.001' : d.p_value.toFixed(3),
    ];
  });
  return renderTable(['language', 'style', 'paired', `A ${label}`, `B ${label}`, 'B-A pts', 'A only', 'B only', 'McNemar p'], rows, { colour });
}

/** One line about a shard: its queries, its share of the estimated cost, and the split's balance. */
export function shardLine(p: ShardPlan): string {
  const total = p.balance.costs.reduce((a, b) => a + b, 0);
  const i = p.spec.index;
  return `shard ${shardName(p.spec)}: ${p.balance.queries[i]} queries, ${((100 * p.balance.costs[i]) / total).toFixed(2)}% of the estimated cost; balance over ${p.spec.count} shards (max/mean cost) ${p.balance.maxOverMean.toFixed(3)}`;
}
