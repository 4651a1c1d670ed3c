import { availableParallelism } from 'node:os';
import { fail, HarnessError } from '../errors.js';
import { distinct } from '../data/mlama.js';
import { parseShardName, shardName, type ShardSpec } from './shard.js';
import { PRECISIONS, type Precision } from '../model/checkpoint.js';
import { seedValue } from '../prompts/sample.js';
import type { ScorerOptions } from '../model/scorer.js';
import { protocolName, protocolOf, PROTOCOL_NAMES, type ProtocolName } from './protocols.js';

/**
 * The run configuration, declared once: every option of `mlama run` with its flag, help, parser and default, and
 * what it means for a run's identity. The commander options, the options stored with a run, what `--resume NAME`
 * takes back from them, and which differences refuse a resume, a merge or a compare are all derived from this
 * table; adding an option is one entry here.
 */
export interface RunOptions {
  /** Optional with --resume: taken from the stored run. */
  model?: string;
  data?: string;
  languages?: string[];
  relations?: string[];
  /** Absent: the paper styles the checkpoint's family serves (run/context.ts defaultStyles). */
  styles?: string[];
  limit?: number;
  sample?: number;
  seed?: number;
  /** Minutes: --sample chosen from the measured cost model (src/run/budget.ts); the chosen sample is what is stored. */
  budget?: number;
  templates: 'main' | 'all';
  fallback: boolean;
  /** The named bundle of protocol choices (src/run/protocols.ts); absent: 'paper'. */
  protocol?: ProtocolName;
  name?: string;
  label?: string;
  resume?: string;
  batchSize?: number;
  tokenBudget?: number;
  threads?: number;
  device?: 'cpu' | 'cuda';
  precision?: Precision;
  shard?: ShardSpec;
  /** The options the user gave (flags, or Slurm's variables for the shard); on --resume the others come from the stored run. Absent: every defined one. */
  given?: string[];
}

/** What `mlama run` takes beyond what evaluate() reads: where results go and how long to wait for the database. */
export interface RunCommandOptions extends RunOptions {
  db: string;
  busyTimeout: number;
}

export const DEFAULT_DB = 'results/mlama.sqlite';

/**
 * - comparable: runs that differ in it answer different questions; resume, merge and compare refuse the pair.
 * - resume: a resumed run must keep it, but runs that differ in it still merge and compare (the shard).
 * - null: changes how a run goes (speed, where it is stored, what it is called), never its answers.
 */
export type Identity = 'comparable' | 'resume' | null;

/** How a stored value is kept in the run's options JSON. */
export type StoredAs = 'list' | 'number' | 'text' | 'boolean';

export interface OptionSpec<T = unknown> {
  /** Commander flags; the long flag in camelCase is the option's key. */
  flags: string;
  help: string;
  /** Text as typed to value; a bad value throws a one-line HarnessError naming the flag. Absent: a boolean switch or plain text. */
  parse?: (text: string) => T;
  /** The value as it would be typed, for values stored as text that are not strings (the shard). */
  format?: (value: T) => string;
  default?: T;
  /** For a boolean switch: the help of its `--no-` form. */
  negation?: string;
  identity: Identity;
  /** Kept in the run's options JSON (and read back by --resume through `parse`); absent: not stored. */
  stored?: StoredAs;
  /** Chooses the queries: `shards` takes it too, as it must split the same set `run` asks. */
  selects?: boolean;
  /** What it sets in the scorer's settings (scorerSettings): the execution reads every option's part from here. */
  scorer?: (value: T) => Partial<ScorerOptions>;
  /** Said after a difference in it (in brackets), where the two values alone would mislead. */
  differs?: string;
}

// biome-ignore lint/suspicious/noExplicitAny: each option has its own value type; the table holds them side by side.
export type OptionTable = Record<string, OptionSpec<any>>;

/** A positive integer for `flag`. */
export function count(flag: string): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n <= 0) fail(`${flag}: expected a positive integer, got "${text}"`);
    return n;
  };
}

/**
 * The parser of a comma list option: `a,,b` or `a,b,` is a typing slip, an error naming the option, not two
 * items. A value with nothing in it (`''`, `,`) is no items (the option's own check says what that means).
 */
export function list(flag: string): (value: string) => string[] {
  return (value) => {
    const items = value.split(',').map((s) => s.trim());
    if (items.every((s) => s === '')) return [];
    const empty = items.indexOf('');
    if (empty >= 0) fail(`${flag} has an empty entry at position ${empty + 1}: "${value}"`);
    return items;
  };
}

/** A selection list for `flag`: empty (`--languages ''`) and duplicated items are errors, not "everything" or double work. */
export function selection(flag: string): (value: string) => string[] {
  return (value) => distinct(flag, list(flag)(value));
}

/** Minutes for --budget: a positive number. */
export function minutesValue(text: string): number {
  const n = Number(text);
  if (!/^\s*\d+(\.\d+)?\s*$/.test(text) || !(n > 0)) fail(`--budget must be a positive number of minutes, got "${text}"`);
  return n;
}

/** Intra-op threads: more than 4x the cores only thrashes (5 answers took 54 s with --threads 999). */
export function threadCount(value: string): number {
  const n = count('--threads')(value);
  const cores = availableParallelism();
  if (n > 4 * cores) fail(`--threads ${n} is more than 4x this machine's ${cores} cores; use at most ${4 * cores} (default: ${cores})`);
  return n;
}

/** Run names are looked up beside ids and the "latest" alias: a name that reads as one of those would be ambiguous. */
export function runName(value: string): string {
  if (value.trim() === '') fail('--name must not be empty');
  if (/^\d+$/.test(value)) fail(`--name "${value}" reads as a run id (runs are found by name or id); use a name with a letter in it`);
  if (value === 'latest') fail('--name "latest" is the alias of the newest run; choose another name');
  return value;
}

/** --shard I/N; `from` says where the text came from when it was not the flag. */
export function shardSpec(text: string, from = ''): ShardSpec {
  const parsed = parseShardName(text);
  if (!parsed) fail(`--shard must be I/N with 0 <= I < N, got "${text}"${from}`);
  return parsed;
}

function choice<T extends string>(flag: string, values: readonly T[]): (text: string) => T {
  return (text) => {
    if (!(values as readonly string[]).includes(text)) fail(`${flag} must be ${values.slice(0, -1).join(', ')} or ${values.at(-1)}, got "${text}"`);
    return text as T;
  };
}

type Declared = Omit<RunCommandOptions, 'given'>;

/** Every option of `mlama run`, in the order of its help. */
export const RUN_OPTIONS: { [K in keyof Declared]-?: OptionSpec<NonNullable<Declared[K]>> } = {
  model: { flags: '--model <dir>', help: 'checkpoint directory (required unless --resume)', identity: null },
  data: { flags: '--data <dir>', help: 'mLAMA 1.1 directory (required unless --resume)', identity: null },
  languages: {
    flags: '--languages <list>',
    help: 'comma-separated languages (default: all)',
    parse: selection('--languages'),
    identity: 'comparable',
    stored: 'list',
    selects: true,
  },
  relations: {
    flags: '--relations <list>',
    help: 'comma-separated relations (default: all)',
    parse: selection('--relations'),
    identity: 'comparable',
    stored: 'list',
    selects: true,
  },
  styles: {
    flags: '--styles <list>',
    help: "prompt styles (prompts/*.json or paths; default: the paper's word and entity styles the checkpoint's family serves)",
    parse: selection('--styles'),
    identity: 'comparable',
    stored: 'list',
    selects: true,
  },
  limit: {
    flags: '--limit <n>',
    help: 'at most N queries per relation and language',
    parse: count('--limit'),
    identity: 'comparable',
    stored: 'number',
    selects: true,
  },
  sample: {
    flags: '--sample <n>',
    help: 'a seeded sample of N queries per language, stratified over relations (after --limit); runs with the same sample and seed answer the same queries',
    parse: count('--sample'),
    identity: 'comparable',
    stored: 'number',
    selects: true,
    // Whether --sample N covers every query depends on the data and the rest of the selection, whose sizes a
    // stored run does not keep, so a sample is compared as asked: a rule that stored a covering sample as none
    // would split a run's resume and its twins from those stored before it.
    differs:
      'a sample is compared as stored, even one at least as large as every language, which selects every query: give both runs the same --sample and --seed, or neither',
  },
  seed: {
    flags: '--seed <s>',
    help: 'the seed of --sample',
    parse: seedValue,
    default: 1,
    identity: 'comparable',
    stored: 'number',
    selects: true,
  },
  budget: {
    flags: '--budget <minutes>',
    help: 'choose --sample from the measured cost of this checkpoint here (FLOPs of the selected queries over the rate of a short pilot) so the run takes about this long; prints the choice',
    parse: minutesValue,
    identity: null,
  },
  templates: {
    flags: '--templates <which>',
    help: 'main | all (paraphrases too)',
    parse: choice('--templates', ['main', 'all'] as const),
    default: 'main',
    identity: 'comparable',
    stored: 'text',
    selects: true,
  },
  fallback: {
    flags: '--fallback',
    help: "entity lookup falls back to the same Wikidata id's labels in other languages (query language, then en, then A-Z; homographs refused); not the paper's protocol, and reports name it",
    default: false,
    negation: "entity lookup as `<lang>:<title>` in the query language only (the paper's protocol; the default)",
    identity: 'comparable',
    stored: 'boolean',
    selects: true,
  },
  protocol: {
    flags: '--protocol <name>',
    help: `${PROTOCOL_NAMES.join(' | ')}: every choice of a public evaluation as one preset (docs/PROTOCOLS.md); paper is the default`,
    parse: protocolName,
    default: 'paper',
    identity: 'comparable',
    stored: 'text',
    selects: true,
    scorer: (p) => ({ topK: protocolOf(p).topK }),
  },
  name: { flags: '--name <name>', help: 'run name (default: run-<timestamp>)', parse: runName, identity: null },
  label: { flags: '--label <text>', help: 'a note stored with the run, shown by runs and reports', identity: null },
  resume: {
    flags: '--resume <name>',
    help: 'continue an interrupted run with its stored model, data and options; refused if inputs changed',
    identity: null,
  },
  db: { flags: '--db <file>', help: 'results database', default: DEFAULT_DB, identity: null },
  batchSize: {
    flags: '--batch-size <n>',
    help: 'rows per batch at most',
    parse: count('--batch-size'),
    default: 64,
    identity: null,
    scorer: (batchSize) => ({ batchSize }),
  },
  tokenBudget: {
    flags: '--token-budget <n>',
    help: 'padded tokens per batch at most',
    parse: count('--token-budget'),
    default: 4096,
    identity: null,
    scorer: (tokenBudget) => ({ tokenBudget }),
  },
  threads: { flags: '--threads <n>', help: 'onnxruntime intra-op threads (default: all cores; at most 4x the cores)', parse: threadCount, identity: null },
  device: { flags: '--device <d>', help: 'cpu | cuda', parse: choice('--device', ['cpu', 'cuda'] as const), default: 'cpu', identity: null },
  precision: {
    flags: '--precision <p>',
    help: 'float32 | int8 (the quantised graphs `make quantize` adds to the checkpoint)',
    parse: choice('--precision', PRECISIONS),
    default: 'float32',
    identity: 'resume',
    stored: 'text',
  },
  shard: {
    flags: '--shard <i/n>',
    help: 'run shard i of n (default from SLURM_ARRAY_TASK_ID/COUNT)',
    parse: (t) => shardSpec(t),
    format: shardName,
    identity: 'resume',
    stored: 'text',
  },
  busyTimeout: {
    flags: '--busy-timeout <ms>',
    help: 'wait this long for another writer of the database before giving up',
    parse: count('--busy-timeout'),
    default: 10000,
    identity: null,
  },
};

/**
 * The scorer's settings the run's options make, each option's part from its entry in table order (an option not
 * given counts as its default): the execution passes these on without naming any option.
 */
export function scorerSettings(o: object, table: OptionTable = RUN_OPTIONS): Partial<ScorerOptions> {
  const values = o as Record<string, unknown>;
  const parts = Object.entries(table).map(([k, s]) => (s.scorer && (values[k] ?? s.default) !== undefined ? s.scorer(values[k] ?? s.default) : {}));
  return Object.assign({}, ...parts);
}

/** The keys whose difference refuses `purpose`: the comparable ones, and for a resume also those it must keep (the shard). */
export function identityKeys(purpose: 'compare' | 'merge' | 'resume', table: OptionTable = RUN_OPTIONS): string[] {
  return Object.entries(table)
    .filter(([, s]) => s.identity === 'comparable' || (purpose === 'resume' && s.identity === 'resume'))
    .map(([k]) => k);
}

/** The options stored with a run: every stored option, absent ones as null (so a stored run names each). */
export function storedOptions(o: Record<string, unknown>, table: OptionTable = RUN_OPTIONS): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(table)) {
    if (!s.stored) continue;
    // An option not given ran as its default does: stored so, as a run stored before the option existed reads.
    const v = o[k] ?? s.default;
    out[k] = v === undefined || v === null ? null : s.format ? s.format(v) : v;
  }
  return out;
}

/** A stored value read back through the option's own parser, so a stored value is checked like a typed one. */
export function readStored(key: string, spec: OptionSpec, value: unknown): unknown {
  const ok =
    spec.stored === 'list'
      ? Array.isArray(value) && value.every((x) => typeof x === 'string')
      : spec.stored === 'number'
        ? typeof value === 'number'
        : spec.stored === 'text'
          ? typeof value === 'string'
          : typeof value === 'boolean';
  if (!ok) fail(`stored option ${key} must be ${spec.stored === 'list' ? 'a list of strings' : `a ${spec.stored}`}, got ${JSON.stringify(value)}`);
  if (!spec.parse) return value;
  return spec.parse(Array.isArray(value) ? value.join(',') : String(value));
}

/** The stored options a resume did not restate, so `--resume NAME` alone continues a run as it was started. */
export function withStoredOptions<O extends { given?: string[] }>(run: string, stored: Record<string, unknown>, o: O, table: OptionTable = RUN_OPTIONS): O {
  const out: Record<string, unknown> = { ...o };
  const given = new Set(o.given ?? Object.keys(out).filter((k) => out[k] !== undefined));
  for (const [k, s] of Object.entries(table)) {
    const v = stored[k];
    if (!s.stored || given.has(k) || v === undefined || v === null) continue;
    try {
      out[k] = readStored(k, s, v);
    } catch (e) {
      if (e instanceof HarnessError) fail(`cannot resume "${run}": its stored options are invalid (${e.message})`);
      throw e;
    }
  }
  return out as O;
}

/** A run's inputs as stored: options, checkpoint fingerprint, dataset fingerprint. */
export interface RunInputs {
  options: Record<string, unknown>;
  checkpoint: Record<string, string>;
  dataset: Record<string, string>;
}

/**
 * What tells two runs' inputs apart for `purpose`, each difference named: the identity options, then the
 * checkpoint's fingerprints (not for compare, which exists to set checkpoints side by side), then the data's.
 */
export function runDifferences(
  purpose: 'compare' | 'merge' | 'resume',
  a: RunInputs,
  b: RunInputs,
  table: OptionTable = RUN_OPTIONS,
  except: readonly string[] = [],
): string[] {
  const at = (x: RunInputs) => ({ ...x, options: withDefaults(x.options, table) });
  const keys = identityKeys(purpose, table).filter((k) => !except.includes(k));
  const [x, y] = [at(a), at(b)];
  return [...inputDifferences(x, y, keys, purpose !== 'compare', table), ...styleDifferences(x.options, y.options)];
}

/** What refuses a compare: the identity options but the styles, which compare pairs itself (and lists what it leaves out). */
export function compareDifferences(a: RunInputs, b: RunInputs): string[] {
  return runDifferences('compare', a, b, RUN_OPTIONS, ['styles']);
}

/**
 * Styles two runs both hold under one name but scored under different definitions (the file edited, another file
 * of that name, another head), each field named. Runs stored before definitions were kept compare as before.
 */
export function styleDifferences(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const da = a.style_definitions as Record<string, Record<string, unknown>> | undefined;
  const db = b.style_definitions as Record<string, Record<string, unknown>> | undefined;
  if (!da || !db || typeof da !== 'object' || typeof db !== 'object') return [];
  return Object.keys(da)
    .filter((name) => Object.hasOwn(db, name))
    .sort()
    .flatMap((name) => differences(da[name] ?? {}, db[name] ?? {}, Object.keys({ ...da[name], ...db[name] })).map((d) => `style "${name}" ${d}`));
}

/** A run stored before an option existed has no key for it (not even null): it ran as the option's default does. */
function withDefaults(options: Record<string, unknown>, table: OptionTable): Record<string, unknown> {
  const out = { ...options };
  for (const [k, s] of Object.entries(table)) if (s.stored && s.default !== undefined && !(k in out)) out[k] = s.format ? s.format(s.default) : s.default;
  return out;
}

/**
 * Differences in the option `keys` (each with what its entry says of a difference), then in the checkpoint's
 * fingerprints (unless `checkpoint` is false), then the data's.
 */
export function inputDifferences(a: RunInputs, b: RunInputs, keys: readonly string[], checkpoint = true, table: OptionTable = RUN_OPTIONS): string[] {
  const fingerprint = (x: Record<string, string>, y: Record<string, string>, what: string) =>
    differences(x, y, Object.keys({ ...x, ...y })).map((d) => `${what} ${d}`);
  const noted = (k: string) => (d: string) => (table[k]?.differs ? `${d} (${table[k].differs})` : d);
  return [
    ...keys.flatMap((k) => differences(a.options, b.options, [k]).map(noted(k))),
    ...(checkpoint ? fingerprint(a.checkpoint, b.checkpoint, 'checkpoint') : []),
    ...fingerprint(a.dataset, b.dataset, 'dataset'),
  ];
}

/** Differing keys, each named with both values as stored. A list is a set: `--languages en,ja` asks what `ja,en` asks. */
export function differences(a: Record<string, unknown>, b: Record<string, unknown>, keys: readonly string[]): string[] {
  const canonical = (v: unknown) => JSON.stringify(Array.isArray(v) ? [...v].sort() : (v ?? null));
  return keys.filter((k) => canonical(a[k]) !== canonical(b[k])).map((k) => `${k}: ${JSON.stringify(a[k] ?? null)} vs ${JSON.stringify(b[k] ?? null)}`);
}
