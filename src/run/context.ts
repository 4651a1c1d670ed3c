import { sampleOf } from '../prompts/sample.js';
import { holding, openDataset, resolveLanguages, resolveRelations, type Dataset } from '../data/mlama.js';
import { readLabelIndex, type LabelIndex } from '../data/labels.js';
import { keysForLabels } from '../tokenize/entityLinker.js';
import { loadStyle, loadStyles, type PromptStyle } from '../prompts/styles.js';
import type { QuerySelection } from '../prompts/source.js';
import { atPrecision, loadCheckpoint, refuseUnservedStyles, styleRefusal, type Checkpoint, type Precision } from '../model/checkpoint.js';
import { datasetFingerprint } from './fingerprint.js';
import type { RunOptions } from './config.js';
import { protocolOf, type ProtocolName } from './protocols.js';

/** The queries a run asks of each (language, relation): one object from the options to every reader of the data. */
export function selectionOf(o: Pick<RunOptions, 'relations' | 'limit' | 'templates' | 'fallback' | 'sample' | 'seed' | 'protocol'>): QuerySelection {
  const tokenization = protocolOf(o.protocol).tokenization;
  // The paper's selection is built as it was before protocols existed: no tokenization key, in-context.
  return {
    relations: o.relations,
    limit: o.limit,
    templates: o.templates,
    fallback: o.fallback,
    sample: sampleOf(o),
    ...(tokenization === 'in-context' ? {} : { tokenization }),
  };
}

/** The paper's two prompts: what a run asks by default, those of them the checkpoint's family serves. */
export const PAPER_STYLES = ['word', 'entity'] as const;

export interface ContextOptions {
  data: string;
  model: string;
  languages?: string[];
  /** Style names or paths; absent: the paper styles the checkpoint serves (see defaultStyles). */
  styles?: string[];
  /** Which queries of each (language, relation): passed whole to the plan, the shard costs and the scoring. */
  selection: QuerySelection;
  precision?: Precision;
  /** Keep the languages' files parsed once: a run plans, costs a shard split and scores from memory. */
  hold?: boolean;
  /** Refuse a style the checkpoint cannot run before anything is built (a run, a shard split, a benchmark). */
  serve?: boolean;
  /** Fingerprint every data folder read, before the first parse (a run checks it again at its end). */
  fingerprint?: boolean;
  /** The flag the relations came from, for errors (`prompts --relation`). */
  relationFlag?: string;
  /** Whose default styles a run without --styles asks (src/run/protocols.ts); absent: the paper's. */
  protocol?: ProtocolName;
}

/** Everything a run, a benchmark, `prompts` or `shards` reads before it builds a query: loaded once, here. */
export interface RunContext {
  ds: Dataset;
  languages: string[];
  /** Every language read: the run's own, and every one the label index behind the entity fallback reads. */
  read: string[];
  /** Per language read, a hash of its files (with ContextOptions.fingerprint). */
  dataset: Record<string, string>;
  labels: LabelIndex;
  ck: Checkpoint;
  styles: PromptStyle[];
  /** How the styles were chosen, for the run's first lines. */
  stylesChosen: string;
  selection: QuerySelection;
}

export function openRunContext(o: ContextOptions): RunContext {
  const opened = openDataset(o.data);
  const languages = resolveLanguages(opened, o.languages);
  const ds = o.hold ? holding(opened, languages) : opened;
  // The label index reads every language folder, not only the run's. Fingerprinted before the first parse: the
  // files held are those fingerprinted, and a rewrite after it is seen at the end.
  const read = [...languages, ...ds.languages];
  const dataset = o.fingerprint ? datasetFingerprint(ds, read) : {};
  if (o.selection.relations) resolveRelations(ds, languages, o.selection.relations, o.relationFlag);
  const given = o.styles ? loadStyles(o.styles) : undefined;
  const labels = readLabelIndex(ds);
  const ck = atPrecision(loadCheckpoint(o.model, { entityKeys: keysForLabels(labels.labels) }), o.precision ?? 'float32');
  const { styles, chosen } = given ? { styles: given, chosen: 'as given by --styles' } : defaultStyles(ck, o.protocol);
  if (o.serve) refuseUnservedStyles(ck, styles);
  return { ds, languages, read, dataset, labels, ck, styles, stylesChosen: chosen, selection: o.selection };
}

/** The paper styles this checkpoint can run, and why the others are left out (a word-only family, a lite vocabulary). */
export function defaultStyles(ck: Checkpoint, protocol?: ProtocolName): { styles: PromptStyle[]; chosen: string } {
  const p = protocolOf(protocol);
  const all = (p.name === 'paper' ? PAPER_STYLES : p.styles).map((s) => loadStyle(s));
  const styles = all.filter((s) => styleRefusal(ck, s) === null);
  const left = all.filter((s) => !styles.includes(s)).map((s) => `${s.name} left out: ${styleRefusal(ck, s)}`);
  const whose = p.name === 'paper' ? 'the paper styles' : `the styles of protocol ${p.name}`;
  return { styles, chosen: `the default for family ${ck.family.name}: ${whose} it serves${left.length ? `; ${left.join('; ')}` : ''}` };
}

/** The line a run opens with: the styles it asks and why those. */
export function stylesLine(ctx: Pick<RunContext, 'styles' | 'stylesChosen'>): string {
  return `styles: ${ctx.styles.map((s) => s.name).join(', ')} (${ctx.stylesChosen})`;
}
