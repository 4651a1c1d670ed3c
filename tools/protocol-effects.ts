// The counted effect of each protocol choice on a data folder and checkpoint (docs/PROTOCOLS.md):
//   node --import tsx tools/protocol-effects.ts [DATA] [MODEL] [LANGUAGES]   (default: the bundled sample, the known-answer
//   checkpoint, every language of DATA)
// Runs the presets (and the paper with the word-ranked entity style) into a temporary database and prints one
// markdown table: per choice, the queries whose inputs or top-1 changed and how far P@1 moved.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataset } from '../src/data/mlama.js';
import { readLabelIndex } from '../src/data/labels.js';
import { loadCheckpoint } from '../src/model/checkpoint.js';
import { languageQueries, selectedSets } from '../src/prompts/source.js';
import { loadStyle } from '../src/prompts/styles.js';
import { mean, meanOfDefined, pct } from '../src/stats.js';
import { correctAt } from '../src/report/metrics.js';
import { authorsPrecision, mlamaPrecision, scriptCrashes } from '../src/report/protocolMetrics.js';
import { selectionOf } from '../src/run/context.js';
import type { ProtocolName } from '../src/run/protocols.js';
import { openStore, readResults, requireRun, type ResultRow } from '../src/store/db.js';

const data = process.argv[2] ?? 'datasets/mlama-sample';
const model = process.argv[3] ?? 'datasets/known-answer';
const only = process.argv[4] ? ['--languages', process.argv[4]] : [];
const db = join(mkdtempSync(join(tmpdir(), 'mlama-protocols-')), 'p.sqlite');

function run(name: string, ...args: string[]): ResultRow[] {
  execFileSync(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main-entry.ts', 'run', '--data', data, '--model', model, '--db', db, '--name', name, ...only, ...args],
    {
      stdio: 'ignore',
    },
  );
  const s = openStore(db, { readonly: true });
  try {
    return readResults(s, requireRun(s, name).id);
  } finally {
    s.db.close();
  }
}

const key = (r: ResultRow) => [r.language, r.relation, r.template, r.subject].join('|');
const of = (rows: ResultRow[], style: string) => new Map(rows.filter((r) => r.style === style).map((r) => [key(r), r]));
const p1 = (rows: Iterable<ResultRow>) => {
  const a = [...rows];
  return a.filter((r) => correctAt(r, 1)).length / a.length;
};
/** The paper's P@1 of each language (mean over its queries), then the mean over languages. */
const byLanguage = (rows: ResultRow[]) => {
  const langs = [...new Set(rows.map((r) => r.language))];
  return langs.map((l) => p1(rows.filter((r) => r.language === l))).reduce((a, b) => a + b, 0) / langs.length;
};

/** Queries whose model inputs differ between two tokenizations (word style). */
function inputsChanged(protocol: ProtocolName, lang1?: string): { changed: number; total: number } {
  const ds = openDataset(data);
  const labels = readLabelIndex(ds);
  const ck = loadCheckpoint(model);
  const build = (p: ProtocolName, lang: string) =>
    [...languageQueries(ds, lang, ck.tokenizer, null, labels, [loadStyle('word')], selectionOf({ fallback: false, templates: 'main', protocol: p }))].map((b) =>
      JSON.stringify([b.passes.map((x) => x.inputIds), b.passes.map((x) => x.candidates.map((c) => b.relation.candidates.tokens[c]))]),
    );
  let changed = 0;
  let total = 0;
  for (const lang of ds.languages.filter((l) => (!lang1 || l === lang1) && (!only.length || only[1].split(',').includes(l)))) {
    const [a, b] = [build('paper', lang), build(protocol, lang)];
    total += a.length;
    changed += a.filter((x, i) => x !== b[i]).length;
  }
  return { changed, total };
}

/** Between two runs' answers of a style each: top-1 changed and P@1 (per query, the paper's) before and after. */
function moved(a: Map<string, ResultRow>, b: Map<string, ResultRow>) {
  const top1 = [...a].filter(([k, r]) => r.top[0]?.label !== b.get(k)?.top[0]?.label).length;
  return { top1, total: a.size, from: byLanguage([...a.values()]), to: byLanguage([...b.values()]) };
}

const paper = run('paper', '--protocol', 'paper');
const paperWordRanked = run('paper-entity-word', '--styles', 'word,entity-word');
const authors = run('authors', '--protocol', 'authors-script');
const mlama = run('mlama', '--protocol', 'mlama');

const lines: string[] = [
  '| choice | from (paper) | to | preset | queries with other inputs | top-1 changed | P@1 from | P@1 to |',
  '|---|---|---|---|---|---|---|---|',
];
const row = (choice: string, from: string, to: string, preset: string, inputs: string, m: { top1: number; total: number; from: number; to: number }) =>
  lines.push(`| ${choice} | ${from} | ${to} | ${preset} | ${inputs} | ${m.top1}/${m.total} | ${pct(m.from)} | ${pct(m.to)} |`);
const alone = inputsChanged('authors-script');
row('tokenization', 'in context', 'every piece alone', 'authors-script', `${alone.changed}/${alone.total}`, moved(of(paper, 'word'), of(authors, 'word')));
const cands = inputsChanged('mlama');
row('tokenization', 'in context', 'candidates alone', 'mlama', `${cands.changed}/${cands.total}`, moved(of(paper, 'word'), of(mlama, 'word')));
row('entity ranking', 'entity score', 'word score', 'authors-script', '0 (same inputs)', moved(of(paper, 'entity'), of(paperWordRanked, 'entity-word')));

// Query unit and averaging: the same stored answers, counted as each preset counts them.
const langs = [...new Set(paper.map((r) => r.language))];
const authorsWord = authorsPrecision(
  authors.filter((r) => r.style === 'word'),
  [1],
);
const questions = authorsWord.reduce((n, m) => n + m.questions, 0);
const perQueryAuthors = mean(langs.map((l) => p1(authors.filter((r) => r.style === 'word' && r.language === l))));
const microAuthors = mean(authorsWord.map((m) => m.p[1]));
lines.push(
  `| query unit + P@k averaging | (relation, template, subject), mean over queries per language | question string, last triple's gold, micro | authors-script | ${questions} question strings for ${of(authors, 'word').size} queries | - | ${pct(perQueryAuthors)} | ${pct(microAuthors)} |`,
);
const mlamaWord = mlamaPrecision(mlama.filter((r) => r.style === 'word'));
const perQueryMlama = mean(langs.map((l) => p1(mlama.filter((r) => r.style === 'word' && r.language === l))));
const triples = mlamaWord.reduce((n, m) => n + Object.values(m.relations).reduce((t, x) => t + x.triples, 0), 0);
lines.push(
  `| query unit + P@k averaging | (relation, template, subject), mean over queries per language | triple (other golds compete), per relation then language, date skipped | mlama | ${triples} triples for ${of(mlama, 'word').size} queries | - | ${pct(perQueryMlama)} | ${pct(meanOfDefined(mlamaWord.map((m) => m.p1)))} |`,
);

lines.push(
  '',
  '| language | queries with other inputs (every piece alone) | top-1 changed (word) | word P@1 paper | word P@1 authors-script tokenization |',
  '|---|---|---|---|---|',
);
for (const l of langs) {
  const m = moved(
    of(
      paper.filter((r) => r.language === l),
      'word',
    ),
    of(
      authors.filter((r) => r.language === l),
      'word',
    ),
  );
  const c = inputsChanged('authors-script', l);
  lines.push(`| ${l} | ${c.changed}/${c.total} | ${m.top1}/${m.total} | ${pct(m.from)} | ${pct(m.to)} |`);
}
const paperP1 = mean(langs.map((l) => p1(paper.filter((r) => r.style === 'word' && r.language === l))));
const ds = openDataset(data);
const crashes = langs.map((l) => ({ l, ...scriptCrashes(selectedSets(ds, l, { fallback: false })) }));
lines.push('');
lines.push(
  `word P@1, mean over languages: paper ${pct(paperP1)}, authors-script as printed ${pct(microAuthors)}, mlama as printed ${pct(meanOfDefined(mlamaWord.map((m) => m.p1)))}`,
);
lines.push(
  `authors' script would stop on: ${crashes.map((c) => `${c.l} ${c.yBeforeX} triples under [Y]-before-[X] templates, ${c.goldMissing} golds missing from the candidate file`).join('; ')}`,
);
console.log(lines.join('\n'));
