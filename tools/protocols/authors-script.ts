// The authors' mLAMA script (studio-ousia/luke add_mlama, examples/mlama/evaluate.py) run here beside
// `mlama run --protocol authors-script` on one checkpoint, compared question by question:
//   node --import tsx tools/protocols/authors-script.ts --model CK --hf HF_DIR [--data FLAT] [--work DIR]
// CK is the harness checkpoint exported from HF_DIR (a LukeForMaskedLM save_pretrained directory).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { correctAt } from '../../src/report/metrics.js';
import { authorsPrecision, authorsQuestions } from '../../src/report/protocolMetrics.js';
import { PROTOCOLS } from '../../src/run/protocols.js';
import { type Agreement, compareAuthors, NEAR_TIE, type TheirResult } from './authorsCompare.js';
import { harnessRun } from './harnessRun.js';
import { type RunnableLayout, runnableLayout } from './layout.js';

export interface AuthorsCheck {
  layout: RunnableLayout;
  /** Per mode (word, entity) and language. */
  agreements: { mode: string; language: string; agreement: Agreement }[];
  /** The harness's paper-preset word P@1 minus the script's printed P@1, mean over languages, in points. */
  paperMinusAuthorsP1: number;
}

export interface AuthorsOptions {
  model: string;
  hf: string;
  data: string;
  work: string;
  languages: string[];
  lukeGit: string;
  python: string;
}

const MODES = { word: 'word', entity: 'entity-word' } as const;

export function checkAuthorsScript(o: AuthorsOptions): AuthorsCheck {
  mkdirSync(o.work, { recursive: true });
  const layout = runnableLayout(join(o.work, 'official'), o.data, o.languages, { yFirst: 'drop' });
  const out = join(o.work, 'script');
  const runner = join(import.meta.dirname, 'authors_script.py');
  execFileSync(
    o.python,
    [
      runner,
      '--luke-git',
      o.lukeGit,
      '--src',
      join(o.work, 'luke-src'),
      '--model',
      o.hf,
      '--data',
      layout.data,
      '--languages',
      layout.languages.join(','),
      '--out',
      out,
    ],
    { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, TQDM_DISABLE: '1', TRANSFORMERS_OFFLINE: '1', HF_HUB_OFFLINE: '1' } },
  );
  const run = { model: o.model, data: layout.data, db: join(o.work, 'harness.sqlite'), languages: o.languages };
  const authors = harnessRun({ ...run, name: 'authors-script', protocol: 'authors-script', fresh: true });
  const paper = harnessRun({ ...run, name: 'paper', protocol: 'paper' });
  const agreements: AuthorsCheck['agreements'] = [];
  const printed: number[] = [];
  const paperP1: number[] = [];
  for (const [mode, style] of Object.entries(MODES)) {
    for (const language of layout.languages) {
      const theirs = JSON.parse(readFileSync(join(out, `${mode}-${language}.json`), 'utf8')) as TheirResult;
      const rows = authors.filter((r) => r.style === style && r.language === language && r.template_main !== false);
      const order = layout.relationOrder[language];
      const [precision] = authorsPrecision(rows, PROTOCOLS['authors-script'].ks, order);
      const questions = authorsQuestions(rows, order, NEAR_TIE);
      agreements.push({ mode, language, agreement: compareAuthors(theirs, questions, precision, PROTOCOLS['authors-script'].topK) });
      if (mode === 'word') {
        printed.push(theirs.metrics.k1);
        const own = paper.filter((r) => r.style === 'word' && r.language === language);
        paperP1.push(own.filter((r) => correctAt(r, 1)).length / own.length);
      }
    }
  }
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { layout, agreements, paperMinusAuthorsP1: 100 * (avg(paperP1) - avg(printed)) };
}

export function authorsOptions(argv: string[]): AuthorsOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string', default: 'checkpoints/protocols/known-answer' },
      hf: { type: 'string', default: 'checkpoints/protocols/known-answer-hf' },
      data: { type: 'string', default: 'datasets/mlama-sample' },
      work: { type: 'string', default: 'checkpoints/protocols/authors' },
      languages: { type: 'string', default: 'en,ja,ar,zh' },
      'luke-git': { type: 'string', default: process.env.LUKE_GIT ?? '/work/.mirror/studio-ousia+luke/repo' },
      python: { type: 'string', default: process.env.MLAMA_PYTHON ?? '.venv/bin/python' },
    },
  });
  return {
    model: resolve(values.model!),
    hf: resolve(values.hf!),
    data: resolve(values.data!),
    work: resolve(values.work!),
    languages: values.languages!.split(','),
    lukeGit: values['luke-git']!,
    python: values.python!,
  };
}
