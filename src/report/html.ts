import * as vega from 'vega';
import { compile } from 'vega-lite';
import { pct } from '../stats.js';
import { bundleNotes, isSingle, type ReportBundle, type RunReport } from './bundle.js';
import type { RelationBias } from './bias.js';
import { multiRunCells } from './formats.js';
import { languageTable } from './render.js';
import { relationName } from './relationNames.js';
import { metricDef, type RelationMetrics, type StyleMetrics } from './metrics.js';
import { isNumericCell } from './table.js';

/** A Vega-Lite spec drawn to SVG in Node and inlined: the page needs no scripts and no network. */
export async function svg(spec: object): Promise<string> {
  // Text is measured without a canvas here, a little narrower than a browser draws it: room on the right.
  const compiled = compile({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    config: { font: 'system-ui, sans-serif', view: { stroke: null } },
    padding: { left: 5, top: 5, bottom: 5, right: 40 },
    ...spec,
  } as never).spec;
  return new vega.View(vega.parse(compiled), { renderer: 'none' }).toSVG();
}

export const esc = (s: unknown) => String(s).replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!);
/** A column's name in charts: the run's label (long ones cut in the middle) and the style, which is never cut. */
export const columnName = (c: { label: string; style: string }) =>
  `${c.label.length > 36 ? `${c.label.slice(0, 18)}…${c.label.slice(-17)}` : c.label} · ${c.style}`;
/** The chart name of a run's style, or null when the table does not show that column (RUN:STYLE chose others). */
const colOf = (b: ReportBundle) => (r: RunReport, style: string) => {
  const c = b.table.columns.find((x) => x.run === r.run.name && x.style === style);
  return c ? columnName(c) : null;
};
/** A metric of a language or relation, in %; null where it is undefined. */
const value = (m: StyleMetrics | RelationMetrics | undefined, key: string) => {
  const v = m?.[key];
  return v === null || v === undefined ? null : 100 * Number(v);
};
/** The chosen metric's label. */
const label = (b: ReportBundle) => metricDef(b.table.metric).label;
/**
 * The metric per relation: the chosen one where relations have it, else P@1 (a relation's macro P@1 is its P@1;
 * coverage is a language's).
 */
const relKey = (b: ReportBundle) => (b.runs.some((r) => r.relations.some((m) => b.table.metric in m)) ? b.table.metric : 'p_at_1');
const relLabel_ = (b: ReportBundle) => metricDef(relKey(b)).label;

/** The table's columns in order, by chart name: the legend and the bars follow it. */
const order = (b: ReportBundle) => b.table.columns.map(columnName);

export function htmlTable(head: string[], rows: (string | number)[][], cls = ''): string {
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td${isNumericCell(c) ? ' class="n"' : ''}>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

const figure = (id: string, body: string, caption: string) => `<figure id="${id}">${body}<figcaption>${esc(caption)}</figcaption></figure>`;

/** The table's metric per language, one bar per run and style: the overview. */
function overview(b: ReportBundle) {
  const col = colOf(b);
  const values = b.runs.flatMap((r) =>
    r.languages.flatMap((m) =>
      col(r, m.style) && value(m, b.table.metric) !== null ? [{ language: m.language, column: col(r, m.style), v: value(m, b.table.metric) }] : [],
    ),
  );
  return svg({
    // Fits a desktop page: about 1000 px whatever the number of languages and columns.
    width: Math.min(1000, Math.max(360, 14 * b.table.languages.length * b.table.columns.length)),
    height: 220,
    data: { values },
    mark: 'bar',
    encoding: {
      x: { field: 'language', type: 'nominal', title: 'language', axis: { labelAngle: 0 } },
      // Bars side by side in the legend's order: both sort by the table's columns.
      xOffset: { field: 'column', sort: order(b) },
      y: { field: 'v', type: 'quantitative', title: `${label(b)} (%)` },
      color: { field: 'column', type: 'nominal', title: 'run · style', legend: { labelLimit: 400 }, sort: order(b) },
      tooltip: [{ field: 'column' }, { field: 'language' }, { field: 'v', title: label(b), format: '.1f' }],
    },
  });
}

const relLabel = (b: ReportBundle, id: string) => {
  const n = relationName(b.relation_names, id);
  return n ? `${id} ${n.length > 28 ? n.slice(0, 27) + '…' : n}` : id;
};

const cellWidth = (languages: number) => Math.max(10, Math.min(22, Math.floor(900 / Math.max(1, languages))));

/** Facet panels wrapped to fit about 1000 px: one per run and style. */
function panels(columns: string[], languages: number, step = cellWidth(languages), axis = 170) {
  const perRow = Math.max(1, Math.min(columns.length, Math.floor(1000 / (languages * step + axis))));
  // Own axes per panel: a wrapped facet otherwise labels only its outer row and column.
  return {
    facet: { field: 'column', type: 'nominal', title: null, sort: columns },
    columns: perRow,
    resolve: { axis: { x: 'independent', y: 'independent' } },
  };
}

/** Language x relation, the metric per relation, one panel per run and style. */
function relationHeatmap(b: ReportBundle) {
  const col = colOf(b);
  const values = b.runs.flatMap((r) =>
    r.relations
      .filter((m) => col(r, m.style))
      .map((m) => ({ column: col(r, m.style), language: m.language, relation: relLabel(b, m.relation), id: m.relation, v: value(m, relKey(b)) })),
  );
  const relations = [...new Set(b.runs.flatMap((r) => r.relations.map((m) => m.relation)))].sort((x, y) => x.localeCompare(y, 'en', { numeric: true }));
  return svg({
    data: { values },
    ...panels(order(b), b.table.languages.length),
    spec: {
      width: { step: cellWidth(b.table.languages.length) },
      height: { step: 13 },
      // Grey where a language has no answers for the relation, so a gap does not read as 0 %.
      view: { fill: '#e4e4e4' },
      mark: 'rect',
      encoding: {
        x: { field: 'language', type: 'nominal', title: null, axis: { orient: 'top', labelAngle: 0 } },
        y: { field: 'relation', type: 'nominal', title: null, sort: relations.map((id) => relLabel(b, id)) },
        color: { field: 'v', type: 'quantitative', title: `${relLabel_(b)} (%)`, scale: { scheme: 'blues', domain: [0, 100] } },
        tooltip: [{ field: 'language' }, { field: 'relation' }, { field: 'v', title: relLabel_(b), format: '.1f' }],
      },
    },
  });
}

/** Entity-based minus word-only, the table's metric per language, in points: above zero the entity prompt knows more. */
function difference(b: ReportBundle) {
  const col = colOf(b);
  const values = b.runs.flatMap((r) => {
    const word = r.languages.filter((m) => m.style === 'word');
    return r.languages
      .filter((m) => m.style !== 'word' && col(r, m.style))
      .flatMap((e) => {
        const w = word.find((x) => x.language === e.language);
        const [ve, vw] = [value(e, b.table.metric), value(w, b.table.metric)];
        return ve !== null && vw !== null ? [{ language: e.language, column: col(r, e.style), diff: ve - vw }] : [];
      });
  });
  if (!values.length) return Promise.resolve('');
  return svg({
    width: { step: 36 },
    height: 180,
    data: { values },
    layer: [
      {
        mark: 'bar',
        encoding: {
          x: { field: 'language', type: 'nominal', axis: { labelAngle: 0 } },
          xOffset: { field: 'column', sort: order(b) },
          y: { field: 'diff', type: 'quantitative', title: `entity − word ${label(b)} (points)` },
          color: { field: 'column', type: 'nominal', title: 'run · style', legend: { labelLimit: 400 }, sort: order(b) },
          tooltip: [{ field: 'column' }, { field: 'language' }, { field: 'diff', format: '.1f' }],
        },
      },
      { mark: { type: 'rule', color: '#333' }, encoding: { y: { datum: 0 } } },
    ],
  });
}

/** RankC between every pair of languages, one matrix per run and style, the value written in each cell. */
function crossMatrix(b: ReportBundle) {
  const col = colOf(b);
  const values = b.runs.flatMap((r) =>
    (r.cross_lingual?.styles ?? [])
      .filter((s) => col(r, s.style))
      .flatMap((s) => [
        ...s.pairs.flatMap((p) => [
          { column: col(r, s.style), a: p.a, b: p.b, rankc: p.rankc, facts: p.facts },
          { column: col(r, s.style), a: p.b, b: p.a, rankc: p.rankc, facts: p.facts },
        ]),
        ...s.languages.map((l) => ({ column: col(r, s.style), a: l, b: l, rankc: null, facts: 0 })),
      ]),
  );
  if (!values.length) return Promise.resolve('');
  const enc = { x: { field: 'b', type: 'nominal', title: null, axis: { orient: 'top', labelAngle: 0 } }, y: { field: 'a', type: 'nominal', title: null } };
  return svg({
    data: { values },
    ...panels(
      order(b).filter((c) => values.some((v) => v.column === c)),
      new Set(values.map((v) => v.a)).size,
      34,
      40,
    ),
    spec: {
      width: { step: 34 },
      height: { step: 22 },
      encoding: enc,
      layer: [
        {
          mark: 'rect',
          encoding: {
            color: { field: 'rankc', type: 'quantitative', title: 'RankC', scale: { scheme: 'purples', domain: [0, 1] } },
            tooltip: [{ field: 'a' }, { field: 'b' }, { field: 'rankc', format: '.3f' }, { field: 'facts' }],
          },
        },
        {
          mark: { type: 'text', fontSize: 9 },
          transform: [{ filter: 'datum.rankc != null' }],
          encoding: { text: { field: 'rankc', format: '.2f' }, color: { condition: { test: 'datum.rankc > 0.6', value: 'white' }, value: 'black' } },
        },
      ],
    },
  });
}

/** Per run, the answers an analysis left out as not scored (uncovered), as one note; empty when none was. */
function leftOut(b: ReportBundle, of: (r: RunReport) => number | undefined): string {
  const xs = b.runs.filter((r) => (of(r) ?? 0) > 0).map((r) => `${r.label}: ${of(r)}`);
  return xs.length ? `<p class="note">Answers not scored (no entity for the gold: uncovered) are left out: ${esc(xs.join('; '))}.</p>` : '';
}

/** Main-template answers whose subject has no Wikidata id (GoogleRE lines carry labels only): no fact to match across languages. */
function withoutIds(b: ReportBundle): string {
  const xs = b.runs.filter((r) => (r.cross_lingual?.without_ids ?? 0) > 0).map((r) => `${r.label}: ${r.cross_lingual!.without_ids}`);
  return xs.length ? `<p class="note">Answers whose subject has no Wikidata id are left out: ${esc(xs.join('; '))}.</p>` : '';
}

function crossTable(b: ReportBundle): string {
  const col = colOf(b);
  const rows = b.runs.flatMap((r) =>
    (r.cross_lingual?.styles ?? [])
      .filter((s) => col(r, s.style))
      .map((s) => [
        r.label,
        s.style,
        s.languages.length,
        s.pairs.reduce((a, p) => a + p.facts, 0),
        pct(s.mean_top1),
        s.mean_rankc === null ? '-' : s.mean_rankc.toFixed(3),
      ]),
  );
  const notes = b.runs.filter((r) => r.cross_lingual?.unavailable).map((r) => `<p class="note">${esc(r.label)}: ${esc(r.cross_lingual!.unavailable)}</p>`);
  return (
    (rows.length ? htmlTable(['run', 'style', 'languages', 'fact pairs', 'top-1 agreement (%)', 'mean RankC'], rows) : '') +
    notes.join('') +
    leftOut(b, (r) => r.cross_lingual?.left_out_uncovered) +
    withoutIds(b)
  );
}

/** Languages as rows, one column per run and style and per figure: the summaries stay one screen tall. */
function pivot<T extends { language: string; style: string }>(
  b: ReportBundle,
  rowsOf: (r: RunReport) => T[] | undefined,
  figures: [string, (x: T) => string][],
): string {
  const at = (r: RunReport, style: string) => b.table.columns.findIndex((c) => c.run === r.run.name && c.style === style);
  const cols = b.runs.flatMap((r) =>
    [...new Set((rowsOf(r) ?? []).map((x) => x.style))]
      .filter((style) => at(r, style) >= 0)
      .sort((x, y) => at(r, x) - at(r, y))
      .map((style) => ({ r, style })),
  );
  if (!cols.length) return '';
  const languages = [...new Set(cols.flatMap((c) => rowsOf(c.r)!.map((x) => x.language)))].sort();
  const head = ['language', ...cols.flatMap((c) => figures.map(([name]) => `${c.r.label} ${c.style} ${name}`))];
  const rows = languages.map((l) => [
    l,
    ...cols.flatMap((c) =>
      figures.map(([, f]) => {
        const x = rowsOf(c.r)!.find((y) => y.language === l && y.style === c.style);
        return x ? f(x) : '-';
      }),
    ),
  ]);
  return htmlTable(head, rows);
}

function paraphraseSection(b: ReportBundle): string {
  const t = pivot(b, (r) => (r.paraphrase?.summary.length ? r.paraphrase.summary : undefined), [
    ['consistency (%)', (s) => pct(s.consistency)],
    ['spread (pts)', (s) => pct(s.spread)],
  ]);
  return (
    leftOut(b, (r) => r.paraphrase?.left_out_uncovered) +
    (t ||
      '<p class="note">No run here asked any relation with more than one template (run with <code>--templates all</code> to measure paraphrase robustness).</p>')
  );
}

function biasSection(b: ReportBundle): string {
  const excess = (x: RelationBias) => x.predicted_share - x.gold_share;
  // Per run, language and style, the relation whose favourite object is most over-predicted.
  const worst = b.runs.flatMap((r) =>
    (r.bias?.summary ?? [])
      .filter((s) => colOf(b)(r, s.style))
      .map((s) => {
        const x = r.bias!.relations.filter((y) => y.language === s.language && y.style === s.style).sort((p, q) => excess(q) - excess(p))[0];
        return [
          r.label,
          x.language,
          x.style,
          `${x.relation} ${relationName(b.relation_names, x.relation)}`.trim(),
          x.top_object,
          pct(x.predicted_share),
          pct(x.gold_share),
          x.queries,
        ];
      }),
  );
  return (
    pivot(b, (r) => r.bias?.summary, [
      ['top-object share (%)', (s) => pct(s.predicted_share)],
      ['excess (pts)', (s) => pct(s.excess_share)],
    ]) +
    '<p class="note">Means over relations: the share of queries answered with the relation\'s most predicted object, and that share minus the object\'s share among the gold answers.</p>' +
    `<details><summary>Most over-predicted object per language (${worst.length} rows)</summary>` +
    htmlTable(['run', 'language', 'style', 'relation', 'object', 'predicted (%)', 'gold (%)', 'queries'], worst) +
    '</details>' +
    leftOut(b, (r) => r.bias?.left_out_uncovered)
  );
}

/** The metric per relation for every run and style, folded by language so the page stays short. */
function relationTables(b: ReportBundle): string {
  const cols = b.table.columns;
  return b.table.languages
    .map((lang) => {
      const rels = [...new Set(b.runs.flatMap((r) => r.relations.filter((m) => m.language === lang).map((m) => m.relation)))].sort((x, y) =>
        x.localeCompare(y, 'en', { numeric: true }),
      );
      const rows = rels.map((rel) => {
        const cells = cols.map((c) => {
          const v = value(
            b.runs.find((r) => r.run.name === c.run)!.relations.find((m) => m.language === lang && m.style === c.style && m.relation === rel),
            relKey(b),
          );
          return v === null ? '-' : v.toFixed(1);
        });
        const queries = b.runs.flatMap((r) => r.relations).find((m) => m.language === lang && m.relation === rel)?.queries ?? 0;
        return [rel, relationName(b.relation_names, rel), queries, ...cells];
      });
      return `<details class="lang"><summary>${esc(lang)} (${rels.length} relations)</summary>${htmlTable(['relation', 'name', 'queries', ...cols.map((c) => `${c.label} ${c.style} ${relLabel_(b)}`)], rows)}</details>`;
    })
    .join('\n');
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:78em;padding:0 1.5em;color:#222}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.8em 0;font-size:13px}td,th{border:1px solid #d0d0d0;padding:2px 8px}th{background:#f4f4f4;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}tbody tr:nth-child(even){background:#fafafa}
figure{margin:1em 0;overflow-x:auto}figcaption{color:#555;font-size:13px}.warn{background:#fff3cd;padding:.5em 1em;border:1px solid #e0c000}
.note{color:#555}details{margin:.3em 0}summary{cursor:pointer;font-weight:600}nav a{margin-right:1em}`;

/** A self-contained page: the report's style sheet, no scripts, nothing fetched. */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>${CSS}</style>
</head><body>
${body}
</body></html>
`;
}

export async function reportHtml(b: ReportBundle): Promise<string> {
  const title = b.runs.map((r) => r.label).join(', ');
  const random = b.runs.filter((r) => r.run.random_weights);
  const t = multiRunCells(b.table);
  const single = isSingle(b) ? languageTable(b.runs[0]) : null;
  const [ov, heat, diff, cross] = await Promise.all([overview(b), relationHeatmap(b), difference(b), crossMatrix(b)]);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mLAMA report: ${esc(title)}</title>
<style>${CSS}</style>
</head><body>
<h1>mLAMA factual knowledge: ${esc(title)}</h1>
${htmlTable(
  ['run', 'label', 'id', 'status', 'styles', 'templates', 'started'],
  b.runs.map((r) => [
    r.run.name,
    r.label,
    `#${r.run.id}`,
    r.run.status,
    ((r.run.options.styles as string[]) ?? []).join(', '),
    String(r.run.options.templates ?? 'main'),
    r.run.started_at,
  ]),
)}
${random.length ? `<p class="warn">${random.map((r) => `<b>${esc(r.label)}</b>`).join(', ')}: this checkpoint has <b>random weights</b> (generated by <code>mlama make-checkpoint</code>): the numbers show that the harness works, not what any model knows.</p>` : ''}
<nav><a href="#overview">overview</a><a href="#relations">relations</a><a href="#difference">entity − word</a><a href="#cross">cross-lingual</a><a href="#paraphrase">paraphrases</a><a href="#bias">bias</a><a href="#tables">per-relation tables</a></nav>
<h2 id="overview">${esc(label(b))} per language</h2>
${figure('chart', ov, `${label(b)} per language for each run and prompt style`)}
${htmlTable(
  t.head.map((h, i) => (i ? `${h} ${label(b)}` : h)),
  t.rows,
)}
${single ? `<h3>Details</h3>${htmlTable(single.head, single.rows)}` : ''}
<p class="note">Numbers in %. ${esc(label(b))} over unique (relation, subject) queries; the average weighs each language equally.${t.notes.map((n) => ` ${esc(n)}`).join('')}</p>
${bundleNotes(b)
  .map((n) => `<p class="warn">${esc(n)}</p>`)
  .join('\n')}
<h2 id="relations">Language × relation</h2>
${figure('heatmap', heat, `${relLabel_(b)} per language and relation, one panel per run and style`)}
<h2 id="difference">Entity-based minus word-only</h2>
${diff ? figure('diff', diff, `entity-based minus word-only ${label(b)} per language, in points`) : '<p class="note">No run has both a word-only and an entity-based style.</p>'}
<h2 id="cross">Cross-lingual consistency</h2>
<p class="note">For facts asked in two languages (same relation and subject Wikidata id, main template): RankC (Qi et al., 2023) over the top-10 candidates matched by Wikidata id; 1 means the same ranking. See docs/ANALYSES.md.</p>
${cross ? figure('cross-matrix', cross, 'RankC between every pair of languages, per run and style') : ''}
${crossTable(b)}
<h2 id="paraphrase">Paraphrase robustness</h2>
<p class="note">Spread: highest minus lowest template P@1 of a relation. Consistency: share of template pairs of one subject whose top-1 predictions agree (Elazar et al., 2021).</p>
${paraphraseSection(b)}
<h2 id="bias">Language bias</h2>
<p class="note">Per relation, the object predicted most often, the share of queries that get it, and its share among the gold answers.</p>
${biasSection(b)}
<h2 id="tables">Per-relation ${esc(relLabel_(b))}, by language</h2>
${relationTables(b)}
</body></html>
`;
}
