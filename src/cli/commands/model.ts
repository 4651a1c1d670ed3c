import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { fail } from '../../errors.js';
import { PRESETS, type PresetName } from '../../checkpoint-gen/weights.js';
import { BUNDLED_SAMPLE, generateCheckpoint } from '../../checkpoint-gen/generate.js';
import { FAMILIES, FAMILY_NAMES, isFamilyName } from '../../model/families/index.js';
import { MANIFEST } from '../../model/checkpoint.js';
import { openRunContext, selectionOf } from '../../run/context.js';
import { protocolName, type ProtocolName } from '../../run/protocols.js';
import { headSpec } from '../../model/heads.js';
import { languageQueries } from '../../prompts/source.js';
import type { Io } from '../io.js';
import { lookupLine } from '../../report/render.js';
import { count } from '../../run/config.js';

/**
 * mkdir -p one level at a time: Node's recursive mkdirSync retries forever where mkdir answers ENOENT under an
 * existing parent (/proc), instead of failing.
 */
function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); !existsSync(d); d = dirname(d)) missing.unshift(d);
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (e) {
      fail(`${dir}: cannot write the checkpoint (${(e as NodeJS.ErrnoException).code ?? (e as Error).message} creating ${d})`);
    }
  }
}

export function registerModel(program: Command, io: Io): void {
  program
    .command('make-checkpoint')
    .description('generate a checkpoint of a model family with deterministic RANDOM weights (for demos, tests, benchmarks)')
    .option('--family <name>', FAMILY_NAMES.map((f) => `${f} (${FAMILIES[f].description})`).join('; '), 'luke')
    .option('--preset <name>', `${Object.keys(PRESETS).join(' | ')}`, 'tiny')
    .requiredOption('--out <dir>', 'checkpoint directory to write')
    .option('--seed <n>', 'weight seed (an integer)', seedValue, 1)
    .option('--data <dir>', 'mLAMA directory whose labels make up the entity vocabulary', BUNDLED_SAMPLE)
    .option('--entity-aware', 'use entity-aware attention (LukeConfig.use_entity_aware_attention)', false)
    .action((o: MakeCheckpointOptions) => makeCheckpointCommand(o, io));

  program
    .command('prompts')
    .description('show built queries readably: text with masks, tokens, ids, entity ids and positions, candidate groups')
    .requiredOption('--data <dir>', 'mLAMA directory')
    .requiredOption('--model <dir>', 'checkpoint directory (tokenizer and entity vocabulary)')
    .requiredOption('--language <lang>', 'language')
    .option('--relation <rel>', 'relation')
    .option('--style <name>', 'prompt style (prompts/*.json or a path)', 'entity')
    .option('--limit <n>', 'queries to show', count('--limit'), 5)
    .option('--fallback', "also look entities up through the same Wikidata id's labels in other languages (not the paper's protocol)", false)
    .option('--no-fallback', 'look entities up as <lang>:<title> in the query language only (the default)')
    .option('--protocol <name>', 'build the queries as this protocol tokenizes them (docs/PROTOCOLS.md)', protocolName, 'paper')
    .action((o: PromptsOptions) => promptsCommand(o, io));
}

/** --seed: an integer as typed; "1.5" or "1e3x" is refused instead of read as 1. */
export function seedValue(text: string): number {
  if (!/^-?\d+$/.test(text.trim())) fail(`--seed must be an integer, got "${text}"`);
  return Number(text);
}

/**
 * A generated checkpoint replaces only a previous generated one: a folder holding anything else (an export, a
 * user's files) is refused, as nothing a user stored is overwritten.
 */
function refuseForeignFolder(out: string): void {
  if (!existsSync(out) || readdirSync(out).length === 0) return;
  const manifest = join(out, MANIFEST);
  let generated = false;
  try {
    generated = (JSON.parse(readFileSync(manifest, 'utf8')) as { random_weights?: unknown }).random_weights === true;
  } catch {}
  if (!generated)
    fail(`${out}: --out is a folder that is not empty and holds no generated checkpoint (no ${MANIFEST} with random weights); choose an empty or new folder`);
}

export interface MakeCheckpointOptions {
  family: string;
  preset: string;
  out: string;
  seed: number;
  data: string;
  entityAware: boolean;
}

/** `mlama make-checkpoint`: a checkpoint of a family with deterministic random weights. */
export function makeCheckpointCommand(o: MakeCheckpointOptions, io: Io): void {
  if (!isFamilyName(o.family)) fail(`--family: unknown model family "${o.family}"; available: ${FAMILY_NAMES.join(', ')}`);
  if (!(o.preset in PRESETS)) fail(`unknown preset "${o.preset}"; available: ${Object.keys(PRESETS).join(', ')}`);
  if (o.entityAware && !FAMILIES[o.family].inputGroups.includes('entities')) fail(`--entity-aware: family ${o.family} has no entity inputs`);
  if (!Number.isInteger(o.seed)) fail('--seed must be an integer');
  if (existsSync(o.out) && !statSync(o.out).isDirectory()) fail(`${o.out}: --out exists and is not a directory (a checkpoint is a directory)`);
  refuseForeignFolder(o.out);
  makeDirs(o.out);
  const t0 = Date.now();
  let r: ReturnType<typeof generateCheckpoint>;
  try {
    r = generateCheckpoint({ family: o.family, preset: o.preset as PresetName, out: o.out, seed: o.seed, data: o.data, entityAware: o.entityAware });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (!code) throw e;
    fail(`${o.out}: cannot write the checkpoint (${code}${(e as NodeJS.ErrnoException).path ? ` at ${(e as NodeJS.ErrnoException).path}` : ''})`);
  }
  io.out(
    `wrote ${o.out}: family ${o.family}, preset ${o.preset}, seed ${o.seed}, word vocab ${r.vocab}, entities ${r.entities}, weights ${(r.weightBytes / 2 ** 20).toFixed(1)} MiB, ${((Date.now() - t0) / 1000).toFixed(1)} s (random weights)`,
  );
}

export interface PromptsOptions {
  data: string;
  model: string;
  language: string;
  relation?: string;
  style: string;
  limit: number;
  fallback: boolean;
  protocol?: ProtocolName;
}

/** `mlama prompts`: built queries shown readably. */
export function promptsCommand(o: PromptsOptions, io: Io): void {
  const ctx = openRunContext({
    data: o.data,
    model: o.model,
    languages: [o.language],
    styles: [o.style],
    selection: selectionOf({ relations: o.relation ? [o.relation] : undefined, limit: o.limit, fallback: o.fallback, templates: 'main', protocol: o.protocol }),
    relationFlag: '--relation',
  });
  const { ds, labels, ck } = ctx;
  const style = ctx.styles[0];
  // Entity lookups are shown for a head that scores entities (its answers carry coverage).
  const entities = headSpec(style.head).coverage;
  if (style.deviation) io.out(`note: style "${style.name}" deviates from the paper: ${style.deviation}`);
  const tok = ck.tokenizer;
  let shown = 0;
  const counted = new Set<unknown>();
  const links = { direct: 0, fallback: 0, refused: 0, none: 0 };
  for (const b of languageQueries(ds, o.language, tok, ck.entityVocab, labels, [style], ctx.selection)) {
    if (entities && !counted.has(b.relation)) {
      counted.add(b.relation);
      for (const e of b.relation.candidates.entities) links[e.via]++;
    }
    if (shown++ >= o.limit) break;
    const cands = b.relation.candidates;
    io.out(
      `\n${b.query.language} ${b.query.relation} template ${JSON.stringify(b.query.template)}  subject ${JSON.stringify(b.query.subject)} (${b.query.subjectUri})  gold ${b.query.golds.map((g) => g.label).join(' | ')}`,
    );
    if (b.subjectEntity)
      io.out(`  subject entity: ${b.subjectEntity.id ?? 'none'} (${b.subjectEntity.via}${b.subjectEntity.key ? ` ${b.subjectEntity.key}` : ''})`);
    if (entities)
      io.out(`  gold entity: ${b.golds.map((g) => `${cands.entities[g].id ?? 'none'} (${cands.entities[g].via})`).join(', ')}; covered ${b.covered}`);
    for (const p of b.passes.slice(0, 3)) {
      io.out(
        `  pass ${p.maskPositions.length} mask(s), ${p.candidates.length} candidates e.g. ${p.candidates
          .slice(0, 3)
          .map((c) => JSON.stringify(cands.labels[c]) + ' ' + JSON.stringify(cands.tokens[c].map(tok.tokenOf)))
          .join(', ')}`,
      );
      io.out(`    tokens ${p.inputIds.map(tok.tokenOf).join(' ')}`);
      io.out(`    ids    ${p.inputIds.join(' ')}  masks at ${p.maskPositions.join(',')}`);
      if (p.entityIds.length) io.out(`    entities ${p.entityIds.map((id, i) => `${id}@[${p.entityPositions[i].join(',')}]`).join(' ')}`);
    }
    if (b.passes.length > 3) io.out(`  ... ${b.passes.length - 3} more length groups (${b.passes.map((p) => p.maskPositions.length).join(',')})`);
  }
  if (entities) io.out(`\n${lookupLine(o.fallback, links)} (relations shown)`);
}
