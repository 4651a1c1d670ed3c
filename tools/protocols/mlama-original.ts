// mLAMA's original ranked evaluation (norakassner/mlama, run by tools/protocols/mlama_original.py) against
// `mlama run --protocol mlama` on the same small RANDOM BERT, per triple (their unit), issue 34:
//   node --import tsx tools/protocols/mlama-original.ts [--data DIR] [--work DIR] [--languages en,ja,ar,zh]
// Their code is read from the git directory in MLAMA_ORIGINAL_SRC (default: the session's mirror) and extracted
// under --work at run time; it is never part of this repository. Last line: `mlama top1_equal=<n>/<m>`.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readLabelIndex } from '../../src/data/labels.js';
import { openDataset } from '../../src/data/mlama.js';
import { fail } from '../../src/errors.js';
import { loadCheckpoint } from '../../src/model/checkpoint.js';
import { languageQueries } from '../../src/prompts/source.js';
import { loadStyle } from '../../src/prompts/styles.js';
import { type MlamaPrecision, mlamaPrecision } from '../../src/report/protocolMetrics.js';
import { selectionOf } from '../../src/run/context.js';
import { NEAR_TIE } from './authorsCompare.js';
import { harnessRun } from './harnessRun.js';
import { runnableLayout } from './layout.js';
import { type OurAnswer, type TheirRun, compareP1, compareTriples, diagnose, ourAnswers } from './mlama-compare.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const DEFAULT_SRC = '/work/.mirror/norakassner+mlama/repo';
const PYTHON = join(ROOT, '.venv', 'bin', 'python');
const RUNNER = join(ROOT, 'tools', 'protocols', 'mlama_original.py');

export interface MlamaOriginalCheck {
  top1Equal: number;
  total: number;
  nearTies: number;
  p1Equal: boolean;
  notes: string[];
}

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28 }).toString();

/** The harness's inputs per (language/relation/subject) and candidate tokens per (language/relation). */
function harnessInputs(data: string, model: string, languages: string[]) {
  const ds = openDataset(data);
  const ck = loadCheckpoint(model);
  const labels = readLabelIndex(ds);
  const sentences = new Map<string, number[]>();
  const candidates = new Map<string, Map<string, number[]>>();
  const sel = selectionOf({ fallback: false, templates: 'main', protocol: 'mlama' });
  for (const lang of languages) {
    for (const b of languageQueries(ds, lang, ck.tokenizer, null, labels, [loadStyle('word')], sel)) {
      sentences.set(`${lang}/${b.query.relation}/${b.query.subject}`, b.passes[0].inputIds);
      const c = b.relation.candidates;
      candidates.set(`${lang}/${b.query.relation}`, new Map(c.labels.map((l, i) => [l, c.tokens[i]])));
    }
  }
  return { sentences, candidates, mask: ck.tokenizer.special.mask };
}

/** Lays out the data, builds and exports the model, runs both sides and compares them. */
export async function checkMlamaOriginal(opts: { data: string; work: string; languages: string[] }): Promise<MlamaOriginalCheck> {
  const src = process.env.MLAMA_ORIGINAL_SRC ?? DEFAULT_SRC;
  if (!existsSync(join(src, 'HEAD')))
    fail(`${src}: no git directory of norakassner/mlama; fetch github:norakassner/mlama and set MLAMA_ORIGINAL_SRC to its git directory`);
  if (!existsSync(PYTHON)) fail(`${PYTHON}: missing; run make python-env protocols-env`);
  const work = resolve(opts.work);
  // Their rank lookup fails on a gold missing from its candidate file: both sides read it appended (layout.ts).
  const layout = runnableLayout(join(work, 'layout'), resolve(opts.data), opts.languages, { yFirst: 'keep' });
  const model = join(work, 'model');
  if (!existsSync(join(model, 'ppb', 'pytorch_model.bin'))) sh(PYTHON, ['-W', 'ignore', RUNNER, 'model', '--out', model, '--seed', '1']);
  const ckpt = join(work, 'ckpt');
  if (!existsSync(join(ckpt, 'mlama-checkpoint.json')))
    sh(process.execPath, [join(ROOT, 'bin', 'mlama.js'), 'export', join(model, 'hf'), ckpt, '--random-weights']);
  const db = join(work, 'harness.sqlite');
  const run = { model: ckpt, data: layout.data, db, name: 'mlama-original', protocol: 'mlama', languages: opts.languages, fresh: true };
  const rows = harnessRun(run).filter((r) => r.style === 'word');
  const out = join(work, 'theirs.json');
  const args = [
    'run',
    '--src',
    src,
    '--data',
    dirname(layout.data),
    '--model',
    join(model, 'ppb'),
    '--work',
    work,
    '--languages',
    opts.languages.join(','),
    '--out',
    out,
  ];
  sh(PYTHON, ['-W', 'ignore', RUNNER, ...args]);
  const theirs = JSON.parse(readFileSync(out, 'utf8')) as TheirRun;
  return summarize(theirs, layout.objectsAdded, ourAnswers(rows), mlamaPrecision(rows), harnessInputs(layout.data, ckpt, opts.languages));
}

function summarize(
  theirs: TheirRun,
  goldsAdded: Record<string, number>,
  ours: Map<string, OurAnswer>,
  precision: MlamaPrecision[],
  inputs: ReturnType<typeof harnessInputs>,
): MlamaOriginalCheck {
  const t = compareTriples(theirs.triples, ours);
  const p1 = compareP1(theirs.relations, theirs.printed, precision);
  const causes = diagnose(t.differ, theirs, inputs);
  const added = Object.entries(goldsAdded);
  const notes = [
    `their code: norakassner/mlama ${theirs.commit.slice(0, 12)} (scripts/run_experiments_mBERT_ranked.py, batch_eval_KB_completion_mBERT_ranked.py, eval.py), model: a small RANDOM BERT (seed 1)`,
    `stand-ins for packages not installable here: ${theirs.standIns.join(', ') || 'none needed'}`,
    `golds appended to candidate files (their script raises IndexError on them): ${added.map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`,
    ...p1.lines,
    ...causes.lines,
    ...t.differ
      .slice(0, 10)
      .map(
        (d) =>
          `differs: ${d.triple.language}/${d.triple.relation} line ${d.triple.lineid} ${JSON.stringify(d.triple.subject)}: theirs ${JSON.stringify(d.triple.top1)}, harness ${JSON.stringify(d.ours?.top1 ?? null)}`,
      ),
  ];
  return { top1Equal: t.top1Equal, total: t.total, nearTies: t.nearTies, p1Equal: p1.equal, notes };
}

async function main() {
  const arg = (name: string, dflt: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : dflt;
  };
  const started = Date.now();
  const r = await checkMlamaOriginal({
    data: arg('data', join(ROOT, 'datasets', 'mlama-sample')),
    work: arg('work', join(ROOT, 'checkpoints', 'protocols', 'mlama')),
    languages: arg('languages', 'en,ja,ar,zh').split(','),
  });
  for (const n of r.notes) console.log(n);
  console.log(
    `near ties (top-1 differs, the two best within ${NEAR_TIE.toExponential()}; counted equal): ${r.nearTies}; P@1 per relation and language equal: ${r.p1Equal ? 'yes' : 'no'}`,
  );
  console.log(`took ${((Date.now() - started) / 1000).toFixed(0)} s`);
  console.log(`mlama top1_equal=${r.top1Equal}/${r.total}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    const err = e as Error & { stderr?: Buffer };
    console.error(`error: ${err.message}${err.stderr ? `\n${err.stderr.toString().split('\n').slice(-8).join('\n')}` : ''}`);
    process.exit(2);
  });
}
