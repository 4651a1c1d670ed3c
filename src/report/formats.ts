import { fail } from '../errors.js';
import { reportHtml } from './html.js';
import { languageTable, relationTable, renderReportTable, reportCsv, type Report } from './render.js';
import { toMarkdown } from './table.js';

export interface RenderOptions {
  colour: boolean;
  /** Also the per-relation breakdown (table format). */
  relations: boolean;
}

export interface ReportFormat {
  description: string;
  render(r: Report, o: RenderOptions): string | Promise<string>;
}

/**
 * The report formats, registered once: `mlama report --format` takes its choices, its check and its help from
 * these keys. Adding a format is one entry here (and its renderer).
 */
const formats = {
  table: { description: 'terminal table per language (--relations adds the per-relation one)', render: (r, o) => renderReportTable(r, o.colour) + (o.relations ? '\n' + relationTable(r, o.colour) : '') },
  json: { description: 'run, languages, averages and relations with every metric', render: (r) => JSON.stringify(r, null, 2) },
  csv: { description: 'one row per language and style, every metric as a fraction', render: (r) => reportCsv(r) },
  html: { description: 'a self-contained page with a chart and both tables', render: (r) => reportHtml(r) },
  markdown: { description: 'the per-language table as Markdown, numbers in %', render: (r) => toMarkdown(languageTable(r).head, languageTable(r).rows) },
} satisfies Record<string, ReportFormat>;

export type ReportFormatName = keyof typeof formats;
export const REPORT_FORMATS: Record<ReportFormatName, ReportFormat> = formats;
export const REPORT_FORMAT_NAMES = Object.keys(REPORT_FORMATS) as ReportFormatName[];

/** The option parser of --format: a registered name, else one line and exit 2. */
export function parseReportFormat(value: string): ReportFormatName {
  if (!Object.hasOwn(REPORT_FORMATS, value)) fail(`--format must be ${REPORT_FORMAT_NAMES.slice(0, -1).join(', ')} or ${REPORT_FORMAT_NAMES.at(-1)}, got "${value}"`);
  return value as ReportFormatName;
}

export function reportFormatHelp(): string {
  return REPORT_FORMAT_NAMES.map((n) => `${n} (${REPORT_FORMATS[n].description})`).join(' | ');
}
