import { esc, htmlTable, page, svg } from './html.js';
import { fmt, type KnownAnswerReport, type KnownAnswerSummary } from './knownAnswer.js';

/** The known-answer table's rows: per class and language, the queries and each style's P@1, with the baseline. */
export function knownAnswerRows(report: KnownAnswerReport): { head: string[]; rows: (string | number)[][]; styles: string[] } {
  const styles = [...new Set(report.cells.map((c) => c.style))].sort((a, b) => (a === 'word' ? -1 : b === 'word' ? 1 : a.localeCompare(b)));
  const keys = [...new Set(report.cells.map((c) => `${c.part}\u0000${c.language}`))];
  const rows = keys.map((k) => {
    const [part, language] = k.split('\u0000');
    const of = (s: string) => report.cells.find((c) => c.part === part && c.language === language && c.style === s);
    const base = part === 'held-out' ? report.baseline.find((b) => b.language === language) : undefined;
    return [part, language, of(styles[0])?.queries ?? 0, ...styles.map((s) => (of(s) ? fmt(of(s)!.p_at_1) : '-')), base ? fmt(base.p_at_1) : '-'];
  });
  return { head: ['facts', 'language', 'queries', ...styles.map((s) => `${s} P@1`), 'single-answer baseline'], rows, styles };
}

const PARTS = ['trained', 'transfer', 'held-out'];

/** P@1 per language, one panel per class of facts, bars per style: what the checkpoint knows and what it does not. */
function chart(report: KnownAnswerReport, styles: string[]): Promise<string> {
  const values = report.cells
    .filter((c) => PARTS.includes(c.part))
    .map((c) => ({ part: c.part, language: c.language, style: c.style, p_at_1: 100 * c.p_at_1 }));
  return svg({
    data: { values },
    facet: { field: 'part', type: 'nominal', title: null, sort: PARTS },
    columns: 3,
    // A class no query of a language fell in leaves no empty slot for it.
    resolve: { scale: { x: 'independent', xOffset: 'independent' } },
    spec: {
      width: 260,
      height: 180,
      mark: 'bar',
      encoding: {
        x: { field: 'language', type: 'nominal', axis: { labelAngle: 0 }, title: null },
        xOffset: { field: 'style', sort: styles },
        y: { field: 'p_at_1', type: 'quantitative', title: 'P@1 (%)', scale: { domain: [0, 100] } },
        color: { field: 'style', type: 'nominal', sort: styles, title: 'style' },
        tooltip: [{ field: 'part' }, { field: 'language' }, { field: 'style' }, { field: 'p_at_1', format: '.1f' }],
      },
    },
  });
}

/** `known-answer --format html`: the classes of facts (trained / transfer / held-out) as one self-contained page. */
export async function knownAnswerHtml(
  run: string,
  factsFile: string,
  report: KnownAnswerReport,
  summary: KnownAnswerSummary,
  failures: string[],
): Promise<string> {
  const t = knownAnswerRows(report);
  const f = (x: number | null) => (x === null ? '-' : fmt(x));
  const cross = report.cross_lingual.map((c) => [c.part, c.style, c.pairs.length, c.facts, f(c.mean_top1), f(c.mean_rankc)]);
  const verdict = failures.length ? `<p class="warn">check FAILED: ${esc(failures.join('; '))}</p>` : '';
  return page(
    `known-answer: ${run}`,
    `<h1>Known-answer check: ${esc(run)}</h1>
<p>A checkpoint trained on ${report.facts} facts (${report.pairs} (language, fact) pairs in <code>${esc(factsFile)}</code>). P@1 by what it was trained on:
<b>trained</b> in the query's language, <b>transfer</b> (trained only in other languages), <b>held-out</b> (never trained), against the best single answer per relation.</p>
${verdict}
<figure id="classes">${await chart(report, t.styles)}<figcaption>P@1 per language for each class of facts and prompt style</figcaption></figure>
${htmlTable(t.head, t.rows)}
${cross.length ? `<h2>Cross-lingual agreement within each class</h2>${htmlTable(['facts', 'style', 'pairs', 'facts compared', 'top-1 agreement', 'RankC'], cross)}` : ''}
${report.mixed ? `<p class="note">${report.mixed} answers whose subject label covers facts of different classes are not counted.</p>` : ''}
${report.without_ids ? `<p class="note">${report.without_ids} answers without ids (GoogleRE) left out: their lines name no Wikidata subject.</p>` : ''}
<p class="note"><code>${esc(
      Object.entries(summary)
        .map(([k, v]) => `${k}=${fmt(v)}`)
        .join(' '),
    )}</code></p>`,
  );
}
