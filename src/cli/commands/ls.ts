import type { Command } from 'commander';
import { fail } from '../../errors.js';
import { FAMILIES } from '../../model/families/index.js';
import { availableStyles, loadStyle } from '../../prompts/styles.js';
import { FORMATS, formatOption, type FormatName } from '../../report/formatOption.js';
import { REPORT_FORMATS } from '../../report/formats.js';
import { COMPARE_METRICS, METRICS } from '../../report/metrics.js';
import { renderTable } from '../../report/table.js';
import type { Io } from '../io.js';

type Listing = Record<string, string | number | boolean | readonly string[] | null>[];

/**
 * Each extension table as rows, read from the table itself, so that the listing cannot fall behind what the
 * harness accepts. A new registry is one entry here.
 */
export const LISTINGS: Record<string, () => Listing> = {
  families: () =>
    Object.entries(FAMILIES).map(([name, f]) => ({
      name,
      heads: f.heads,
      model_types: f.modelTypes,
      input_groups: f.inputGroups,
      description: f.description,
    })),
  styles: () =>
    availableStyles().map((file) => {
      const s = loadStyle(file);
      return { name: s.name, head: s.head, entity_inputs: s.entityInputs, object_masks: s.objectMasks, description: s.description };
    }),
  metrics: () =>
    METRICS.map((m) => ({
      key: m.key,
      label: m.label,
      heads: m.heads ?? 'every',
      aggregate: m.aggregate,
      higher_is_better: m.higherIsBetter,
      // `compare --metric` takes it: a 0/1 hit at a rank on every answer, which two runs pair per query.
      compare: COMPARE_METRICS.includes(m),
      description: m.description,
    })),
  formats: () =>
    (Object.keys(FORMATS) as FormatName[]).map((name) => ({
      name,
      report: Object.hasOwn(REPORT_FORMATS, name),
      description: FORMATS[name],
    })),
};

const FORMAT = formatOption(['table', 'json'] as const);

const cell = (v: Listing[number][string]): string => (Array.isArray(v) ? v.join(',') : String(v));

/** `mlama ls TABLE`: one extension table, as a terminal table or JSON. */
export function lsCommand(what: string, o: { format: 'table' | 'json' }, io: Io): void {
  const list = Object.hasOwn(LISTINGS, what) ? LISTINGS[what] : fail(`mlama ls: no table "${what}"; known: ${Object.keys(LISTINGS).join(', ')}`);
  const rows = list();
  if (o.format === 'json') {
    io.out(JSON.stringify(rows, null, 2));
    return;
  }
  const head = Object.keys(rows[0] ?? { name: '' });
  io.out(
    renderTable(
      head,
      rows.map((r) => head.map((k) => cell(r[k]))),
      { colour: io.tty },
    ),
  );
}

export function registerLs(program: Command, io: Io): void {
  program
    .command('ls')
    .description(`list an extension table: ${Object.keys(LISTINGS).join(' | ')}`)
    .argument('<table>', Object.keys(LISTINGS).join(' | '))
    .option(FORMAT.flags, FORMAT.help, FORMAT.parse, FORMAT.default)
    .action((what: string, o: { format: 'table' | 'json' }) => lsCommand(what, o, io));
}
