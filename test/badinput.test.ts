import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { before as setup, test } from 'node:test';
import Database from 'better-sqlite3';
import { type CliResult, cli, SAMPLE_DATA, sampleCopy, tempDir } from './support/cli.js';
import { tinyCheckpoint } from './support/fixtures.js';
import { cliOnReadOnlyFile } from './support/readonly.js';

// One table of broken inputs: each gets its exit code and a one-line message naming the file and line or field.

const ck = tinyCheckpoint(1, false, SAMPLE_DATA);
const goodDb = join(tempDir(), 'good.sqlite');

/** A copy of the sample with `edit` applied to one of its files. */
function data(file: string, edit: (text: string) => string): string {
  const d = sampleCopy();
  writeFileSync(join(d, file), edit(readFileSync(join(d, file), 'utf8')));
  return d;
}

/** A copy of the tiny checkpoint with `edit` applied to it. */
function model(edit: (dir: string) => void): string {
  const d = join(tempDir(), 'ck');
  cpSync(ck, d, { recursive: true });
  edit(d);
  return d;
}

const json = (dir: string, file: string, edit: (v: any) => any) =>
  writeFileSync(join(dir, file), JSON.stringify(edit(JSON.parse(readFileSync(join(dir, file), 'utf8')))));
const replaceLine = (n: number, line: string) => (t: string) =>
  t
    .split('\n')
    .map((l, i) => (i === n - 1 ? line : l))
    .join('\n');
const run = (d: string, m = ck, ...more: string[]) => [
  'run',
  '--data',
  d,
  '--model',
  m,
  '--languages',
  'en',
  '--limit',
  '1',
  '--db',
  join(tempDir(), 'r.sqlite'),
  ...more,
];
const stats = (d: string) => ['data', 'stats', '--data', d, '--languages', 'en'];

interface Case {
  name: string;
  argv: () => string[] | Promise<string[]>;
  code: number;
  /** stderr: the one error line, or for exit 0 all of stderr. */
  err: RegExp;
  out?: RegExp;
  /** How the command runs, when not in this process. */
  runner?: (argv: string[]) => CliResult | Promise<CliResult>;
  /** Called after the command, always: releases what argv took and names what is wrong with what was left. */
  after?: () => string | undefined | Promise<string | undefined>;
}

/** Runs `fn` with some environment variables set (or removed, for undefined), restoring them after. */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const put = (v: Record<string, string | undefined>) => {
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined) delete process.env[k];
      else process.env[k] = x;
    }
  };
  put(vars);
  try {
    return await fn();
  } finally {
    put(saved);
  }
}

/** Adds a run named `name`, a copy of the good run's record without its answers. */
const copyRunAs = (name: string) => (d: Database.Database) => {
  const cols = (d.pragma('table_info(runs)') as { name: string }[]).map((c) => c.name).filter((c) => c !== 'id');
  d.prepare(`INSERT INTO runs (${cols.join(', ')}) SELECT ${cols.map((c) => (c === 'name' ? '?' : c)).join(', ')} FROM runs WHERE name = 'good'`).run(name);
};

/** A gate file holding `policy`, in a folder of its own. */
function gateFile(policy: unknown): string {
  const f = join(tempDir(), 'gate.json');
  writeFileSync(f, JSON.stringify(policy));
  return f;
}

/** A copy of the good results file, with `edit` applied to it through SQLite or its bytes. */
function dbCopy(name: string, edit?: (file: string) => void): string {
  const f = join(tempDir(), name);
  cpSync(goodDb, f);
  edit?.(f);
  return f;
}
const sql = (fn: (d: Database.Database) => void) => (f: string) => {
  const d = new Database(f);
  try {
    fn(d);
  } finally {
    d.close();
  }
};
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
/** A foreign SQLite file: another application's tables, no mlama mark. */
function foreignDb(name: string, setup: string, appId = 0): string {
  const f = join(tempDir(), name);
  sql((d) => {
    if (appId) d.pragma(`application_id = ${appId}`);
    d.exec(setup);
  })(f);
  return f;
}

/** A case whose file must be byte for byte the same afterwards (read-only commands, refused files). */
function unchanged(c: Omit<Case, 'argv' | 'after'>, file: () => string, argv: (f: string) => string[]): Case {
  let f = '';
  let before = '';
  return {
    ...c,
    argv: () => {
      f = file();
      before = sha(f);
      return argv(f);
    },
    after: () => (sha(f) === before ? undefined : `${f} was changed`),
  };
}

/** A run into a file whose write lock another connection holds from the start: nothing of it is stored. */
function lockedFromStart(): Case {
  let release = () => {};
  let db = '';
  return {
    name: 'database locked by another writer (run)',
    argv: () => {
      db = dbCopy('locked.sqlite');
      const holder = new Database(db);
      holder.exec('BEGIN IMMEDIATE');
      release = () => {
        holder.exec('ROLLBACK');
        holder.close();
      };
      return run(SAMPLE_DATA, ck, '--db', db, '--name', 'second', '--busy-timeout', '200');
    },
    code: 2,
    err: /locked\.sqlite: database busy \(another process holds the write lock; gave up after the busy timeout\)/,
    after: () => {
      release();
      const d = new Database(db, { readonly: true });
      try {
        const runs = d.prepare('SELECT name, status FROM runs ORDER BY id').all();
        return JSON.stringify(runs) === '[{"name":"good","status":"complete"}]' ? undefined : `runs left: ${JSON.stringify(runs)}`;
      } finally {
        d.close();
      }
    },
  };
}

/** The lock taken once the run has stored 8 answers: the run fails, is not left held, and --resume finishes it. */
function lockedMidRun(): Case {
  const db = join(tempDir(), 'midrun.sqlite');
  let holder: Database.Database | undefined;
  let timer: NodeJS.Timeout | undefined;
  return {
    name: 'database locked by another writer mid-run',
    argv: () => {
      timer = setInterval(() => {
        if (holder || !existsSync(db)) return;
        try {
          const d = new Database(db, { readonly: true });
          try {
            if ((d.prepare('SELECT COUNT(*) AS n FROM results').get() as { n: number }).n < 8) return;
          } finally {
            d.close();
          }
          holder = new Database(db);
          holder.exec('BEGIN IMMEDIATE');
        } catch {
          // The schema may not exist yet.
        }
      }, 5);
      return ['run', '--data', SAMPLE_DATA, '--model', ck, '--languages', 'en', '--styles', 'word', '--threads', '1', '--batch-size', '8'].concat([
        '--db',
        db,
        '--name',
        'locked',
        '--busy-timeout',
        '200',
      ]);
    },
    code: 2,
    err: /midrun\.sqlite: database busy \(another process holds the write lock/,
    after: async () => {
      clearInterval(timer);
      if (!holder) return 'the run finished before the lock was taken';
      holder.exec('ROLLBACK');
      holder.close();
      const left = JSON.parse((await cli('runs', '--db', db, '--format', 'json')).out)[0];
      if (left.status === 'complete' || left.held_by) return `left ${left.status}, held by ${left.held_by}`;
      const resumed = await cli('run', '--resume', 'locked', '--db', db);
      if (resumed.code !== 0 || !/run "locked" complete: (\d+)\/\1 answers/.test(resumed.out)) return `--resume: exit ${resumed.code}: ${resumed.err}`;
    },
  };
}

/** Overwrites one 4 KiB page of a file with garbage. */
const garbagePage = (page: number) => (f: string) => {
  const fd = openSync(f, 'r+');
  writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, page * 4096);
  closeSync(fd);
};
const toJournal = sql((d) => d.pragma('journal_mode = DELETE'));
const RUN_TABLE = `CREATE TABLE runs (id INTEGER PRIMARY KEY, track TEXT, km REAL); INSERT INTO runs (track, km) VALUES ('park', 5.2);`;
const notOurs = /not an mlama results database \(.*\); it was left unchanged/;

const cases: Case[] = [
  // mLAMA dataset files
  {
    name: 'malformed JSON line',
    argv: () => stats(data('en/P19.jsonl', replaceLine(3, '{"sub_uri": "Q1", '))),
    code: 2,
    err: /en\/P19\.jsonl:3: malformed JSON/,
  },
  {
    name: 'triple without sub_label',
    argv: () => stats(data('en/P19.jsonl', replaceLine(2, '{"sub_uri":"Q1","obj_uri":"Q2","obj_label":"Tokyo","lineid":1}'))),
    code: 2,
    err: /en\/P19\.jsonl:2: .*"sub_label"/,
  },
  {
    name: 'obj_label of the wrong type',
    argv: () => stats(data('en/P19.jsonl', replaceLine(4, '{"sub_uri":"Q1","obj_uri":"Q2","sub_label":"A","obj_label":17,"lineid":1}'))),
    code: 2,
    err: /en\/P19\.jsonl:4: .*"obj_label"/,
  },
  { name: 'a JSON array instead of an object', argv: () => stats(data('en/P19.jsonl', replaceLine(1, '[1, 2]'))), code: 2, err: /en\/P19\.jsonl:1: / },
  {
    name: 'template without [X]',
    argv: () => stats(data('en/templates.jsonl', (t) => t.replace('[X] was born in [Y] .', 'someone was born in [Y] .'))),
    code: 2,
    err: /en\/templates\.jsonl:\d+: template must contain exactly one \[X\] and one \[Y\]/,
  },
  {
    name: 'template without [Y]',
    argv: () => stats(data('en/templates.jsonl', (t) => t.replace('[X] was born in [Y] .', '[X] was born .'))),
    code: 2,
    err: /en\/templates\.jsonl:\d+: template must contain exactly one \[X\] and one \[Y\]/,
  },
  {
    name: 'template with two [Y]',
    argv: () => stats(data('en/templates.jsonl', (t) => t.replace('[X] was born in [Y] .', '[X] was born in [Y] , [Y] .'))),
    code: 2,
    err: /en\/templates\.jsonl:\d+: template must contain exactly one/,
  },
  {
    name: 'templates.jsonl malformed',
    argv: () => stats(data('en/templates.jsonl', (t) => t + '{"relation": \n')),
    code: 2,
    err: /en\/templates\.jsonl:\d+: malformed JSON/,
  },
  {
    name: 'template without its relation field',
    argv: () => stats(data('en/templates.jsonl', replaceLine(1, '{"template":"[X] speaks [Y] ."}'))),
    code: 2,
    err: /en\/templates\.jsonl:1: .*"relation"/,
  },
  {
    name: 'empty candidate set',
    argv: () => stats(data('TREx_multilingual_objects/en.json', (t) => JSON.stringify({ ...JSON.parse(t), P19: { objects: [] } }))),
    code: 2,
    err: /en\.json: .*P19/,
  },
  {
    name: 'candidate file malformed',
    argv: () => stats(data('TREx_multilingual_objects/en.json', (t) => t.slice(0, 100))),
    code: 2,
    err: /TREx_multilingual_objects\/en\.json: /,
  },
  {
    name: 'candidate file missing',
    argv: () => {
      const d = sampleCopy();
      rmSync(join(d, 'TREx_multilingual_objects', 'en.json'));
      return stats(d);
    },
    code: 2,
    err: /en\/P19: no candidate set in \S+\/data\/TREx_multilingual_objects\/en\.json or \S+\/data\/GoogleRE_objects\/en\.json/,
  },
  {
    name: 'unknown language',
    argv: () => ['data', 'stats', '--data', SAMPLE_DATA, '--languages', 'xx'],
    code: 2,
    err: /unknown language "xx".*available: ar, en, ja, zh/,
  },
  { name: 'dataset directory missing', argv: () => stats(join(tempDir(), 'nowhere')), code: 2, err: /nowhere: .*not found|nowhere: .*does not exist/ },
  { name: 'dataset path is a file', argv: () => stats(join(SAMPLE_DATA, 'README.md')), code: 2, err: /README\.md: / },
  {
    name: 'language without templates.jsonl',
    argv: () => {
      const d = sampleCopy();
      rmSync(join(d, 'en', 'templates.jsonl'));
      return stats(d);
    },
    code: 2,
    err: /en\/templates\.jsonl: missing/,
  },
  // checkpoint directories
  { name: 'checkpoint directory missing', argv: () => run(SAMPLE_DATA, join(tempDir(), 'no-ck')), code: 2, err: /no-ck: checkpoint directory not found/ },
  {
    name: 'manifest missing',
    argv: () =>
      run(
        SAMPLE_DATA,
        model((d) => rmSync(join(d, 'mlama-checkpoint.json'))),
      ),
    code: 2,
    err: /mlama-checkpoint\.json: missing/,
  },
  {
    name: 'manifest malformed',
    argv: () =>
      run(
        SAMPLE_DATA,
        model((d) => writeFileSync(join(d, 'mlama-checkpoint.json'), '{"format": ')),
      ),
    code: 2,
    err: /mlama-checkpoint\.json: malformed JSON/,
  },
  {
    name: 'manifest of another format',
    argv: () =>
      run(
        SAMPLE_DATA,
        model((d) => json(d, 'mlama-checkpoint.json', (m) => ({ ...m, format: 'other/9' }))),
      ),
    code: 2,
    err: /mlama-checkpoint\.json: field "format" must be "mlama-checkpoint\/1"/,
  },
  {
    name: 'manifest without the gathered graph',
    argv: () =>
      run(
        SAMPLE_DATA,
        model((d) => json(d, 'mlama-checkpoint.json', (m) => ({ ...m, graphs: { naive: m.graphs.naive } }))),
      ),
    code: 2,
    err: /field "graphs\.gathered" missing/,
  },
  {
    name: 'manifest lacks an input of the contract',
    argv: () =>
      run(
        SAMPLE_DATA,
        model((d) =>
          json(d, 'mlama-checkpoint.json', (m) => {
            m.graphs.gathered.inputs = m.graphs.gathered.inputs.filter((i: string) => i !== 'entity_ids');
            return m;
          }),
        ),
      ),
    code: 2,
    err: /field "graphs\.gathered\.inputs" lacks "entity_ids"/,
  },
  {
    name: 'graph file missing',
    argv: () =>
      run(
        SAMPLE_DATA,
        model((d) => rmSync(join(d, 'model.onnx'))),
      ),
    code: 2,
    err: /model\.onnx: graph file missing \(graphs\.gathered\.file\)/,
  },
  {
    name: 'graph file is not ONNX',
    argv: () =>
      run(
        SAMPLE_DATA,
        model((d) => writeFileSync(join(d, 'model.onnx'), 'not a protobuf at all')),
      ),
    code: 2,
    err: /model\.onnx: onnxruntime cannot load the graph/,
  },
  {
    name: 'graph without an input the manifest names',
    argv: () =>
      run(
        SAMPLE_DATA,
        model((d) =>
          json(d, 'mlama-checkpoint.json', (m) => {
            m.graphs.gathered.inputs.push('extra_input');
            return m;
          }),
        ),
      ),
    code: 2,
    err: /model\.onnx: graph has no input "extra_input" that the manifest names/,
  },
  {
    name: 'a words graph in a family without entity inputs',
    argv: () =>
      run(
        SAMPLE_DATA,
        model((d) =>
          json(d, 'mlama-checkpoint.json', (m) => {
            m.family = 'xlmr';
            m.graphs.words = { file: 'model.onnx', inputs: ['input_ids', 'attention_mask', 'word_positions', 'word_candidates'], outputs: ['word_logprobs'] };
            return m;
          }),
        ),
      ),
    code: 2,
    err: /mlama-checkpoint\.json: field "graphs\.words": family xlmr has no entity inputs/,
  },
  {
    name: 'weights file missing',
    argv: () =>
      run(
        SAMPLE_DATA,
        model((d) => rmSync(join(d, 'weights.bin'))),
      ),
    code: 2,
    err: /weights\.bin: weights file missing \(field "files\.weights"/,
  },
  {
    name: 'weights file truncated',
    argv: () =>
      run(
        SAMPLE_DATA,
        model((d) => truncateSync(join(d, 'weights.bin'), 1000)),
      ),
    code: 2,
    // The file the graph reads and what is wrong with it, instead of onnxruntime's 700-character line.
    err: /weights\.bin: 1000 bytes, but .*model\.onnx reads \d+ bytes from it \(tensor [^)]+\); the file is truncated or from another export$/,
  },
  {
    name: 'config without hidden_size',
    argv: () =>
      run(
        SAMPLE_DATA,
        model((d) => json(d, 'config.json', (c) => ({ ...c, hidden_size: undefined }))),
      ),
    code: 2,
    err: /config\.json: field "hidden_size" missing or not a number/,
  },
  {
    name: 'config malformed',
    argv: () =>
      run(
        SAMPLE_DATA,
        model((d) => writeFileSync(join(d, 'config.json'), '{')),
      ),
    code: 2,
    err: /config\.json: malformed JSON/,
  },
  // tokenizer and entity vocabulary files
  {
    name: 'tokenizer size differs from the config',
    argv: () =>
      run(
        SAMPLE_DATA,
        model((d) => json(d, 'config.json', (c) => ({ ...c, vocab_size: c.vocab_size + 5 }))),
      ),
    code: 2,
    err: /tokenizer\.json: tokenizer has 8002 ids but .*config\.json field "vocab_size" is 8007/,
  },
  {
    name: 'tokenizer malformed',
    argv: () =>
      run(
        SAMPLE_DATA,
        model((d) => writeFileSync(join(d, 'tokenizer.json'), '{"model": {')),
      ),
    code: 2,
    err: /tokenizer\.json: malformed JSON/,
  },
  {
    name: 'tokenizer without <mask>',
    argv: () =>
      run(
        SAMPLE_DATA,
        model((d) => json(d, 'tokenizer.json', (t) => ({ ...t, added_tokens: t.added_tokens.filter((a: any) => a.content !== '<mask>') }))),
      ),
    code: 2,
    err: /tokenizer\.json: field "added_tokens" has no mask token <mask>/,
  },
  {
    name: 'tokenizer of an unknown model type',
    argv: () =>
      run(
        SAMPLE_DATA,
        model((d) => json(d, 'tokenizer.json', (t) => ({ ...t, model: { ...t.model, type: 'Mystery' } }))),
      ),
    code: 2,
    err: /tokenizer\.json: field "model\.type" is "Mystery"/,
  },
  {
    name: 'entity vocabulary without [MASK]',
    argv: () =>
      run(
        SAMPLE_DATA,
        model((d) =>
          json(d, 'entity_vocab.json', (v) => {
            delete v['[MASK]'];
            return v;
          }),
        ),
      ),
    code: 2,
    err: /entity_vocab\.json: no \[MASK\] entity/,
  },
  {
    name: 'entity vocabulary size differs from the config',
    argv: () =>
      run(
        SAMPLE_DATA,
        model((d) => json(d, 'config.json', (c) => ({ ...c, entity_vocab_size: c.entity_vocab_size + 1 }))),
      ),
    code: 2,
    err: /entity_vocab\.json: entity vocabulary has \d+ ids but .*"entity_vocab_size"/,
  },
  {
    name: 'entity vocabulary malformed',
    argv: () =>
      run(
        SAMPLE_DATA,
        model((d) => writeFileSync(join(d, 'entity_vocab.json'), '{"[PAD]": 0, "[UNK]": ')),
      ),
    code: 2,
    err: /entity_vocab\.json: /,
  },
  {
    name: 'entity vocabulary with a non-integer id',
    argv: () =>
      run(
        SAMPLE_DATA,
        model((d) => json(d, 'entity_vocab.json', (v) => ({ ...v, 'en:Tokyo': 'seven' }))),
      ),
    code: 2,
    err: /entity_vocab\.json: /,
  },
  // database files
  {
    name: 'database is a text file',
    argv: () => {
      const f = join(tempDir(), 'text.sqlite');
      writeFileSync(f, 'this is not a database, just text that is long enough to look like a header........');
      return ['report', '--db', f];
    },
    code: 2,
    err: /text\.sqlite: not a valid results database/,
  },
  {
    name: 'database from a newer harness',
    argv: () => {
      const f = join(tempDir(), 'new.sqlite');
      const d = new Database(f);
      d.pragma('user_version = 99');
      d.close();
      return run(SAMPLE_DATA, ck, '--db', f);
    },
    code: 2,
    err: /new\.sqlite: schema version 99 is newer than this harness knows/,
  },
  {
    name: 'database path is a directory',
    argv: () => {
      const f = join(tempDir(), 'adir.sqlite');
      mkdirSync(f);
      return ['report', '--db', f];
    },
    code: 2,
    err: /adir\.sqlite: /,
  },
  {
    name: 'database truncated mid-page',
    argv: async () => {
      const f = join(tempDir(), 'cut.sqlite');
      cpSync(goodDb, f);
      truncateSync(f, 5000);
      return ['report', '--db', f, '--run', 'good'];
    },
    code: 2,
    err: /cut\.sqlite: (not a valid results database|no run)/,
  },
  { name: 'report of a run that does not exist', argv: () => ['report', '--db', goodDb, '--run', 'nope'], code: 2, err: /no run "nope"; recent runs: good/ },
  {
    name: 'report --runs RUN:STYLE with a style the run lacks',
    argv: () => ['report', '--db', goodDb, '--runs', 'good:nostyle'],
    code: 2,
    err: /--runs: run "good" has no answers under style "nostyle"; it has word/,
  },
  {
    name: 'report --runs RUN: without a style',
    argv: () => ['report', '--db', goodDb, '--runs', 'good:'],
    code: 2,
    err: /--runs: "good:" must be RUN or RUN:STYLE/,
  },
  {
    name: 'report --metric of a count',
    argv: () => ['report', '--db', goodDb, '--runs', 'good', '--metric', 'ties'],
    code: 2,
    err: /--metric must be one of p_at_1, .* got "ties"/,
  },
  {
    name: 'known-answer --data other than the run evaluated',
    argv: () => [
      'known-answer',
      '--db',
      goodDb,
      '--run',
      'good',
      '--facts',
      join(import.meta.dirname, '../datasets/known-answer/training-facts.jsonl'),
      '--data',
      data('en/P19.jsonl', (t) => t.split('\n').slice(1).join('\n')),
    ],
    code: 2,
    err: /is not the data run "good" evaluated: its fingerprint differs in en: /,
  },
  // options
  { name: '--limit 0', argv: () => run(SAMPLE_DATA, ck, '--limit', '0'), code: 2, err: /expected a positive integer, got "0"/ },
  {
    name: 'bench --rounds 0',
    argv: () => ['bench', 'scoring', '--data', SAMPLE_DATA, '--model', ck, '--rounds', '0'],
    code: 2,
    err: /error: --rounds: expected a positive integer, got "0"$/,
  },
  { name: '--device tpu', argv: () => run(SAMPLE_DATA, ck, '--device', 'tpu'), code: 2, err: /--device must be cpu or cuda, got "tpu"/ },
  // issue 20: --precision
  { name: '--precision fp16', argv: () => run(SAMPLE_DATA, ck, '--precision', 'fp16'), code: 2, err: /--precision must be float32 or int8, got "fp16"/ },
  {
    name: '--precision int8 without int8 graphs',
    argv: () => run(SAMPLE_DATA, ck, '--precision', 'int8'),
    code: 2,
    err: /--precision int8: \S+ has no int8 graphs \(no "precisions\.int8" in its mlama-checkpoint\.json\); make them with: make quantize CHECKPOINT=/,
  },
  {
    name: '--precision int8, the int8 graph file missing',
    argv: () =>
      run(
        SAMPLE_DATA,
        model((d) => json(d, 'mlama-checkpoint.json', (m) => ({ ...m, precisions: { int8: { graphs: { gathered: 'model.int8.onnx' }, weights: [] } } }))),
        '--precision',
        'int8',
      ),
    code: 2,
    err: /ck\/model\.int8\.onnx: missing \(precisions\.int8 of \S+mlama-checkpoint\.json\); make them with: make quantize/,
  },
  {
    name: '--precision int8, a scoring graph not quantised',
    argv: () =>
      run(
        SAMPLE_DATA,
        model((d) => json(d, 'mlama-checkpoint.json', (m) => ({ ...m, precisions: { int8: { graphs: {}, weights: [] } } }))),
        '--precision',
        'int8',
      ),
    code: 2,
    err: /has no int8 copy of its "gathered" graph; make them with: make quantize/,
  },
  { name: '--shard 4/4', argv: () => run(SAMPLE_DATA, ck, '--shard', '4/4'), code: 2, err: /--shard must be I\/N with 0 <= I < N, got "4\/4"/ },
  { name: 'unknown prompt style', argv: () => run(SAMPLE_DATA, ck, '--styles', 'word,nope'), code: 2, err: /unknown prompt style "nope"/ },
  // issue 15: selections (item 8)
  { name: '--languages en,en', argv: () => run(SAMPLE_DATA, ck, '--languages', 'en,en'), code: 2, err: /--languages lists "en" twice/ },
  { name: '--styles word,word', argv: () => run(SAMPLE_DATA, ck, '--styles', 'word,word'), code: 2, err: /--styles lists "word" twice/ },
  { name: "--languages ''", argv: () => run(SAMPLE_DATA, ck, '--languages', ''), code: 2, err: /--languages is empty/ },
  { name: "answers --languages ''", argv: () => ['answers', '--db', goodDb, '--run', 'good', '--languages', ''], code: 2, err: /--languages is empty/ },
  // An empty entry in a comma list is a typing slip named with its option, not dropped silently.
  {
    name: 'report --runs a,,b',
    argv: () => ['report', '--runs', 'good,,good', '--db', goodDb],
    code: 2,
    err: /--runs has an empty entry at position 2: "good,,good"/,
  },
  { name: '--languages en,', argv: () => run(SAMPLE_DATA, ck, '--languages', 'en,'), code: 2, err: /--languages has an empty entry at position 2: "en,"/ },
  { name: '--styles ,word', argv: () => run(SAMPLE_DATA, ck, '--styles', ' ,word'), code: 2, err: /--styles has an empty entry at position 1: " ,word"/ },
  {
    name: 'answers --languages en,,ja',
    argv: () => ['answers', '--db', goodDb, '--run', 'good', '--languages', 'en,,ja'],
    code: 2,
    err: /--languages has an empty entry at position 2: "en,,ja"/,
  },
  { name: 'report --runs ,', argv: () => ['report', '--runs', ',', '--db', goodDb], code: 2, err: /--runs needs at least one run name/ },
  {
    name: 'answers --languages en,en',
    argv: () => ['answers', '--db', goodDb, '--run', 'good', '--languages', 'en,en'],
    code: 2,
    err: /--languages lists "en" twice/,
  },
  { name: "--styles ''", argv: () => run(SAMPLE_DATA, ck, '--styles', ''), code: 2, err: /--styles is empty/ },
  { name: '--relations P9999', argv: () => run(SAMPLE_DATA, ck, '--relations', 'P9999'), code: 2, err: /--relations: "P9999" matches no relation in en/ },
  { name: '--relations p19', argv: () => run(SAMPLE_DATA, ck, '--relations', 'p19'), code: 2, err: /"p19" matches no relation in en \(did you mean "P19"/ },
  { name: 'empty templates file', argv: () => run(data('en/templates.jsonl', () => '')), code: 2, err: /en\/templates\.jsonl: no templates/ },
  {
    name: 'prompts --relation P9999',
    argv: () => ['prompts', '--data', SAMPLE_DATA, '--model', ck, '--language', 'en', '--relation', 'P9999'],
    code: 2,
    err: /--relation: "P9999" matches no relation in en/,
  },
  ...['abc', '0', '-1'].map((n) => ({
    name: `prompts --limit ${n}`,
    argv: () => ['prompts', '--data', SAMPLE_DATA, '--model', ck, '--language', 'en', '--relation', 'P19', '--limit', n],
    code: 2,
    err: new RegExp(`--limit: expected a positive integer, got "${n}"`),
  })),
  // issue 15: compare and options (items 2, 17)
  {
    name: 'compare --fail-on-drop abc',
    argv: () => ['compare', 'good', 'good', '--db', goodDb, '--fail-on-drop', 'abc'],
    code: 2,
    err: /--fail-on-drop must be a number of points from 0 to 100 .*got "abc"/,
  },
  { name: 'compare --fail-on-drop 1pt', argv: () => ['compare', 'good', 'good', '--db', goodDb, '--fail-on-drop', '1pt'], code: 2, err: /got "1pt"/ },
  { name: 'compare --fail-on-drop 1,5', argv: () => ['compare', 'good', 'good', '--db', goodDb, '--fail-on-drop', '1,5'], code: 2, err: /got "1,5"/ },
  {
    name: 'compare --fail-on-drop 101',
    argv: () => ['compare', 'good', 'good', '--db', goodDb, '--fail-on-drop', '101'],
    code: 2,
    err: /from 0 to 100 .*got "101"/,
  },
  { name: 'compare --fail-on-drop -1', argv: () => ['compare', 'good', 'good', '--db', goodDb, '--fail-on-drop', '-1'], code: 2, err: /got "-1"/ },
  {
    name: 'compare --format xml',
    argv: () => ['compare', 'good', 'good', '--db', goodDb, '--format', 'xml'],
    code: 2,
    err: /--format must be table, json, markdown or junit, got "xml"/,
  },
  // H10: a gate file's thresholds and styles that apply to nothing are named, not silently ignored
  {
    name: 'gate file max_drop for a language neither run answered',
    argv: () => ['compare', 'good', 'good', '--db', goodDb, '--gate', gateFile({ max_drop: { default: 10, jp: 3 } })],
    code: 2,
    err: /gate\.json: max_drop\.jp: neither run answered language "jp" \("good" and "good" answered en\)/,
  },
  {
    name: 'gate file styles that no run has',
    argv: () => ['compare', 'good', 'good', '--db', goodDb, '--gate', gateFile({ styles: ['nope'] })],
    code: 2,
    err: /gate\.json: styles \["nope"\]: no style both runs have \("good" has word, entity; "good" has word, entity\)/,
  },
  // H10: a RUN:STYLE that is also another run's whole name is refused, not read silently as the whole name
  ...(['compare', 'report'] as const).map((cmd) => ({
    name: `${cmd}: good:word when a run is named "good:word"`,
    argv: () => {
      const f = dbCopy(`colon-${cmd}.sqlite`, sql(copyRunAs('good:word')));
      return cmd === 'compare' ? ['compare', 'good:word', 'good', '--db', f] : ['report', '--runs', 'good:word,good', '--db', f];
    },
    code: 2,
    err: /"good:word" names both run "good:word" \(#2\) and style "word" of run "good" \(#1\); give 2 or 1:word/,
  })),
  // H10: shards that each chose their own --sample from their own pilot could never be merged
  {
    name: '--budget with --shard 1/2',
    argv: () => run(SAMPLE_DATA, ck, '--budget', '1', '--shard', '1/2').filter((a, i, all) => a !== '--limit' && all[i - 1] !== '--limit'),
    code: 2,
    err: /--budget with shard 1\/2: each shard would time its own pilot and choose its own --sample/,
  },
  {
    name: 'compare a run with one of its own styles lists what it leaves out once',
    argv: () => ['compare', 'good', 'good:word', '--db', goodDb],
    code: 0,
    err: /^$/,
    out: /on word: \d+ paired queries; left out: good:entity$/m,
  },
  // A format a command does not write is refused, not printed as its default (data stats printed a table for xml).
  {
    name: 'data stats --format xml',
    argv: () => ['data', 'stats', '--data', SAMPLE_DATA, '--format', 'xml'],
    code: 2,
    err: /^error: --format must be table or json, got "xml"$/,
  },
  {
    name: 'data check --format table',
    argv: () => ['data', 'check', SAMPLE_DATA, '--format', 'table'],
    code: 2,
    err: /^error: --format must be text or json, got "table"$/,
  },
  {
    name: 'data check on a file',
    argv: () => ['data', 'check', join(SAMPLE_DATA, 'en', 'P19.jsonl')],
    code: 2,
    err: /P19\.jsonl: not a directory \(--data takes the dataset folder\)$/,
  },
  { name: '--threads 999', argv: () => run(SAMPLE_DATA, ck, '--threads', '999'), code: 2, err: /--threads 999 is more than 4x this machine's \d+ cores/ },
  { name: '--name 1', argv: () => run(SAMPLE_DATA, ck, '--name', '1'), code: 2, err: /--name "1" reads as a run id/ },
  { name: '--name latest', argv: () => run(SAMPLE_DATA, ck, '--name', 'latest'), code: 2, err: /--name "latest" is the alias of the newest run/ },
  {
    name: 'GoogleRE candidate set for a T-REx relation',
    argv: () => {
      const d = sampleCopy();
      mkdirSync(join(d, 'GoogleRE_objects'));
      writeFileSync(join(d, 'GoogleRE_objects', 'en.json'), JSON.stringify({ P19: { objects: ['Paris'] } }));
      return stats(d);
    },
    code: 2,
    err: /GoogleRE_objects\/en\.json: relation "P19" also has a candidate set in/,
  },
  {
    name: 'relation file with a BOM',
    argv: () => stats(data('en/P19.jsonl', (t) => '\ufeff' + t)),
    code: 2,
    err: /en\/P19\.jsonl:1: starts with a UTF-8 byte-order mark \(BOM\)/,
  },
  {
    name: 'candidate file with a BOM',
    argv: () => stats(data('TREx_multilingual_objects/en.json', (t) => '\ufeff' + t)),
    code: 2,
    err: /en\.json: starts with a UTF-8 byte-order mark \(BOM\)/,
  },
  // issue 15: checkpoint values (items 7, 14)
  {
    name: 'max_position_embeddings -5',
    argv: () =>
      run(
        SAMPLE_DATA,
        model((d) => json(d, 'config.json', (c) => ({ ...c, max_position_embeddings: -5 }))),
      ),
    code: 2,
    err: /"max_position_embeddings" is -5: it must be an integer above/,
  },
  {
    name: 'max_position_embeddings 8 against the graph',
    argv: () =>
      run(
        SAMPLE_DATA,
        model((d) => json(d, 'config.json', (c) => ({ ...c, max_position_embeddings: 8 }))),
      ),
    code: 2,
    err: /"max_position_embeddings" is 8 but the graph's word position table .* has 130 rows/,
  },
  {
    name: 'added_tokens as an object',
    argv: () =>
      run(
        SAMPLE_DATA,
        model((d) => json(d, 'tokenizer.json', (t) => ({ ...t, added_tokens: { '<mask>': 8001 } }))),
      ),
    code: 2,
    err: /tokenizer\.json: field "added_tokens" must be a list/,
  },
  {
    name: 'added_tokens holding null',
    argv: () =>
      run(
        SAMPLE_DATA,
        model((d) => json(d, 'tokenizer.json', (t) => ({ ...t, added_tokens: [null, ...t.added_tokens] }))),
      ),
    code: 2,
    err: /tokenizer\.json: field "added_tokens\[0\]" must be an object with an integer "id" and a string "content"/,
  },
  {
    name: '<mask> id that is an ordinary token',
    argv: () =>
      run(
        SAMPLE_DATA,
        model((d) =>
          json(d, 'tokenizer.json', (t) => ({ ...t, added_tokens: t.added_tokens.map((a: any) => (a.content === '<mask>' ? { ...a, id: 100 } : a)) })),
        ),
      ),
    code: 2,
    err: /tokenizer\.json: <mask> has id 100, which is the ordinary token/,
  },
  {
    name: 'entity vocabulary key with a bad escape',
    argv: () =>
      run(
        SAMPLE_DATA,
        model((d) => writeFileSync(join(d, 'entity_vocab.json'), readFileSync(join(d, 'entity_vocab.json'), 'utf8').replace('"[UNK]"', '"\\q[UNK]"'))),
      ),
    code: 2,
    err: /entity_vocab\.json: malformed entity vocabulary at byte \d+: bad escape in a key/,
  },
  {
    name: 'weights.bin is a directory',
    argv: () =>
      run(
        SAMPLE_DATA,
        model((d) => {
          rmSync(join(d, 'weights.bin'));
          mkdirSync(join(d, 'weights.bin'));
        }),
      ),
    code: 2,
    err: /weights\.bin: weights file is not a file \(field "files\.weights"/,
  },
  {
    name: 'entity id past the embedding table',
    argv: () =>
      run(
        SAMPLE_DATA,
        model((d) => {
          json(d, 'entity_vocab.json', (v) => ({ ...v, 'en:Tokyo': 5000 }));
          json(d, 'config.json', (c) => ({ ...c, entity_vocab_size: 5001 }));
        }),
      ),
    code: 2,
    err: /"entity_vocab_size" is 5001 but the graph's entity embedding table .* has \d+ rows/,
  },
  {
    name: "[MASK] entity on [PAD]'s id",
    argv: () =>
      run(
        SAMPLE_DATA,
        model((d) => json(d, 'entity_vocab.json', (v) => ({ ...v, '[MASK]': 0 }))),
      ),
    code: 2,
    err: /entity_vocab\.json: \[MASK\] has id 0, which \[PAD\] also has; a special entity needs its own id/,
  },
  {
    name: "[MASK] entity on an ordinary entity's id",
    argv: () =>
      run(
        SAMPLE_DATA,
        model((d) => json(d, 'entity_vocab.json', (v) => ({ ...v, '[MASK]': 3 }))),
      ),
    code: 2,
    err: /entity_vocab\.json: \[MASK\] has id 3, which an ordinary entity also has; a special entity needs its own id/,
  },
  // issue 30 item 14: a command refused on its inputs leaves no results file; Slurm's id without its count; --name on a resume.
  (() => {
    let db = '';
    return {
      name: 'run with a missing --data creates no results file',
      argv: () => {
        db = join(tempDir(), 'never.sqlite');
        return ['run', '--data', join(tempDir(), 'nowhere'), '--model', ck, '--db', db];
      },
      code: 2,
      err: /nowhere: /,
      after: () => (readdirSync(dirname(db)).length ? `left ${readdirSync(dirname(db)).join(', ')}` : undefined),
    };
  })(),
  (() => {
    let db = '';
    return {
      name: 'run --resume of a run in a database that does not exist creates none',
      argv: () => {
        db = join(tempDir(), 'never.sqlite');
        return ['run', '--resume', 'good', '--db', db];
      },
      code: 2,
      err: /never\.sqlite: no run "good" to resume/,
      after: () => (existsSync(db) ? `${db} was created` : undefined),
    };
  })(),
  {
    name: 'SLURM_ARRAY_TASK_ID without SLURM_ARRAY_TASK_COUNT',
    argv: () => run(SAMPLE_DATA),
    runner: (argv) => withEnv({ SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: undefined }, () => cli(...argv)),
    code: 2,
    err: /SLURM_ARRAY_TASK_ID is "2" but SLURM_ARRAY_TASK_COUNT is not set, so the shard count is unknown; give --shard I\/N/,
  },
  unchanged(
    { name: 'run --resume NAME --name other', code: 2, err: /--name other with --resume good: a resumed run keeps its name/ },
    () =>
      dbCopy(
        'resume-name.sqlite',
        sql((d) => d.exec(`UPDATE runs SET status = 'interrupted'`)),
      ),
    (f) => ['run', '--resume', 'good', '--name', 'other', '--db', f],
  ),
  // issue 15: output paths (item 14)
  {
    name: 'report --out into a folder',
    argv: () => ['report', '--db', goodDb, '--run', 'good', '--out', tempDir()],
    code: 2,
    err: /: cannot write the report \(EISDIR\)/,
  },
  {
    name: 'report --out into a missing folder',
    argv: () => ['report', '--db', goodDb, '--run', 'good', '--out', join(tempDir(), 'no', 'such', 'r.txt')],
    code: 2,
    err: /r\.txt: cannot write the report \(ENOENT/,
  },
  // The results database named as --out: refused before anything is opened, the file byte for byte the same.
  unchanged(
    {
      name: 'report --out the results database',
      code: 2,
      err: /--out .*out-db\.sqlite is the results database .*; writing there would destroy the stored runs/,
    },
    () => dbCopy('out-db.sqlite'),
    (f) => ['report', '--db', f, '--run', 'good', '--out', f],
  ),
  unchanged(
    {
      name: 'answers --out the results database through a link',
      code: 2,
      err: /--out .*db-link\.sqlite is the results database .*out-db2\.sqlite; writing there/,
    },
    () => dbCopy('out-db2.sqlite'),
    (f) => {
      const link = join(tempDir(), 'db-link.sqlite');
      symlinkSync(f, link);
      return ['answers', '--db', f, '--run', 'good', '--out', link];
    },
  ),
  // issue 30 item 2: SQLite keeps the -wal beside the file a link resolves to, not beside the link.
  ...(['answers', 'report'] as const).map((cmd) =>
    unchanged(
      {
        name: `${cmd} --out the resolved database's -wal, the database opened through a link`,
        code: 2,
        err: /is the results database .*out-db-wal-\w+\.sqlite-wal; writing there/,
      },
      () => dbCopy(`out-db-wal-${cmd}.sqlite`),
      (f) => {
        const link = join(tempDir(), 'wal-link.sqlite');
        symlinkSync(f, link);
        return [cmd, '--db', link, '--run', 'good', '--out', `${f}-wal`];
      },
    ),
  ),
  unchanged(
    { name: 'report --out the results database by a relative path', code: 2, err: /is the results database .*out-db3\.sqlite; writing there/ },
    () => dbCopy('out-db3.sqlite'),
    (f) => ['report', '--db', f, '--run', 'good', '--out', relative(process.cwd(), f)],
  ),
  {
    name: 'answers --out into a missing folder',
    argv: () => ['answers', '--db', goodDb, '--run', 'good', '--out', join(tempDir(), 'no', 'a.jsonl')],
    code: 2,
    err: /a\.jsonl: cannot write the answers \(ENOENT: no directory /,
  },
  // A stored answer edited by hand: one line naming the run, the answer and the field; an export it breaks
  // halfway leaves no file behind (the rows before it were already written to a hidden part file).
  (() => {
    let out = '';
    return {
      name: 'answers over a stored answer whose top list is not a list',
      argv: () => {
        out = join(tempDir(), 'half.jsonl');
        const f = dbCopy(
          'bad-top.sqlite',
          sql((d) => d.exec(`UPDATE results SET top = 'null' WHERE rowid = (SELECT MAX(rowid) FROM results)`)),
        );
        return ['answers', '--db', f, '--run', 'good', '--out', out];
      },
      code: 2,
      err: /bad-top\.sqlite: run #1, answer en\/[a-z-]+\/P\d+\/".*": invalid stored top \(not a JSON list of \{label, score\}, with copies a whole number from 2 where given\)/,
      after: () => (existsSync(out) || readdirSync(dirname(out)).some((f) => f.endsWith('.part')) ? `${out} or its part file was left behind` : undefined),
    };
  })(),
  {
    // The authors-script metric adds copies up: a count stored as text would concatenate ("1" + "2").
    name: 'answers over a stored answer whose top entry counts its copies as text',
    argv: () => [
      'answers',
      '--db',
      dbCopy(
        'copies.sqlite',
        sql((d) => d.exec(`UPDATE results SET top = json_set(top, '$[0].copies', '2') WHERE rowid = (SELECT MAX(rowid) FROM results)`)),
      ),
      '--run',
      'good',
      '--out',
      join(tempDir(), 'copies.jsonl'),
    ],
    code: 2,
    err: /copies\.sqlite: run #1, answer en\/.*: invalid stored top \(not a JSON list of \{label, score\}, with copies a whole number from 2 where given\)/,
  },
  {
    name: 'report over stored options whose styles are not a list',
    argv: () => [
      'report',
      '--db',
      dbCopy(
        'styles.sqlite',
        sql((d) => d.exec(`UPDATE runs SET options = json_set(options, '$.styles', 'word')`)),
      ),
      '--run',
      'good',
    ],
    code: 2,
    err: /styles\.sqlite: run "good" \(#1\) has invalid stored options\.styles \(not a list of style names\)/,
  },
  {
    name: 'report over a stored gold rank of 0',
    argv: () => [
      'report',
      '--db',
      dbCopy(
        'rank0.sqlite',
        sql((d) => d.exec('UPDATE results SET gold_rank = 0 WHERE rowid = 1')),
      ),
      '--run',
      'good',
    ],
    code: 2,
    err: /rank0\.sqlite: run #1, answer en\/.*: invalid stored gold_rank \(not a whole number from 1\)/,
  },
  {
    name: 'report over stored golds that are not JSON',
    argv: () => [
      'report',
      '--db',
      dbCopy(
        'golds.sqlite',
        sql((d) => d.exec(`UPDATE results SET golds = 'not json' WHERE rowid = 1`)),
      ),
      '--run',
      'good',
    ],
    code: 2,
    err: /golds\.sqlite: run #1, answer en\/.*: invalid stored golds \(not a non-empty JSON list of labels\)/,
  },
  {
    name: 'make-checkpoint --out an existing file',
    argv: () => {
      const f = join(tempDir(), 'file');
      writeFileSync(f, 'x');
      return ['make-checkpoint', '--out', f];
    },
    code: 2,
    err: /file: --out exists and is not a directory/,
  },
  {
    name: 'make-checkpoint --out unwritable',
    argv: () => ['make-checkpoint', '--out', '/sys/mlama-ck'],
    code: 2,
    err: /\/sys\/mlama-ck: cannot write the checkpoint/,
  },
  // issue 15: results files (items 1, 11, 12, 13)
  lockedFromStart(),
  lockedMidRun(),
  {
    name: 'database with a page of garbage bytes (report)',
    argv: () => ['report', '--run', 'good', '--db', dbCopy('garbage.sqlite', garbagePage(1))],
    code: 2,
    err: /garbage\.sqlite: not a valid results database \(database disk image is malformed\)/,
  },
  {
    name: 'database with a page of garbage bytes (run)',
    argv: () => run(SAMPLE_DATA, ck, '--db', dbCopy('garbage.sqlite', garbagePage(1))),
    code: 2,
    err: /garbage\.sqlite: not a valid results database \(database disk image is malformed\)/,
  },
  {
    name: 'database truncated mid-page (run)',
    argv: () =>
      run(
        SAMPLE_DATA,
        ck,
        '--db',
        dbCopy('cut.sqlite', (f) => truncateSync(f, 5000)),
      ),
    code: 2,
    err: /cut\.sqlite: not a valid results database/,
  },
  unchanged(
    { name: "another application's file with a runs table (report)", code: 2, err: notOurs },
    () => foreignDb('other.sqlite', RUN_TABLE),
    (f) => ['report', '--db', f],
  ),
  unchanged(
    { name: "another application's file with a runs table (run)", code: 2, err: notOurs },
    () => foreignDb('other.sqlite', RUN_TABLE),
    (f) => run(SAMPLE_DATA, ck, '--db', f),
  ),
  unchanged(
    { name: "another application's application_id (runs)", code: 2, err: /marked\.sqlite: not an mlama results database \(application_id 42 belongs/ },
    () => foreignDb('marked.sqlite', 'CREATE TABLE t (x)', 42),
    (f) => ['runs', '--db', f],
  ),
  unchanged(
    { name: "another application's application_id (run)", code: 2, err: /marked\.sqlite: not an mlama results database \(application_id 42 belongs/ },
    () => foreignDb('marked.sqlite', 'CREATE TABLE t (x)', 42),
    (f) => run(SAMPLE_DATA, ck, '--db', f),
  ),
  unchanged(
    { name: 'user_version -1 (report)', code: 2, err: /v-1\.sqlite: schema version -1 \(PRAGMA user_version\) is not one mlama-harness writes/ },
    () =>
      dbCopy(
        'v-1.sqlite',
        sql((d) => d.pragma('user_version = -1')),
      ),
    (f) => ['report', '--db', f],
  ),
  unchanged(
    { name: 'user_version -1 (run)', code: 2, err: /v-1\.sqlite: schema version -1 \(PRAGMA user_version\) is not one mlama-harness writes/ },
    () =>
      dbCopy(
        'v-1.sqlite',
        sql((d) => d.pragma('user_version = -1')),
      ),
    (f) => run(SAMPLE_DATA, ck, '--db', f),
  ),
  unchanged(
    { name: 'schema version from the future (report)', code: 2, err: /v99\.sqlite: schema version 99 is newer than this harness knows/ },
    () =>
      dbCopy(
        'v99.sqlite',
        sql((d) => d.pragma('user_version = 99')),
      ),
    (f) => ['report', '--db', f],
  ),
  unchanged(
    { name: 'rollback-journal file read by report', code: 0, err: /^$/, out: /run good \(#1, complete\)/ },
    () => dbCopy('journal.sqlite', toJournal),
    (f) => ['report', '--db', f, '--run', 'good'],
  ),
  unchanged(
    { name: 'rollback-journal file read by runs', code: 0, err: /^$/, out: /│ good +│ complete/ },
    () => dbCopy('journal.sqlite', toJournal),
    (f) => ['runs', '--db', f],
  ),
  unchanged(
    { name: 'rollback-journal file read by compare', code: 0, err: /^$/, out: /A = good \(#1\) {2}B = good \(#1\)/ },
    () => dbCopy('journal.sqlite', toJournal),
    (f) => ['compare', 'good', 'good', '--db', f],
  ),
  ...(['report', 'runs', 'compare'] as const).map((cmd) =>
    unchanged(
      { name: `read-only results file read by ${cmd}`, code: 0, err: /^$/, out: /good/, runner: (argv) => cliOnReadOnlyFile(argv.at(-1)!, argv) },
      () => dbCopy('ro.sqlite'),
      (f) => [cmd, ...(cmd === 'compare' ? ['good', 'good'] : []), '--db', f],
    ),
  ),
  unchanged(
    {
      name: 'read-only results file written by run',
      code: 2,
      err: /ro\.sqlite: cannot write the results database \(attempt to write a readonly database\)/,
      runner: (argv) => cliOnReadOnlyFile(argv.at(-1)!, argv),
    },
    () => dbCopy('ro.sqlite'),
    (f) => run(SAMPLE_DATA, ck, '--db', f),
  ),
  {
    name: '--db is a directory (run)',
    argv: () => {
      const f = join(tempDir(), 'adir.sqlite');
      mkdirSync(f);
      return run(SAMPLE_DATA, ck, '--db', f);
    },
    code: 2,
    err: /adir\.sqlite: cannot write the results database \(unable to open database file\)/,
  },
  { name: 'compare --fail-on-drop -3', argv: () => ['compare', 'good', 'good', '--db', goodDb, '--fail-on-drop', '-3'], code: 2, err: /got "-3"/ },
  {
    name: 'stored options of a run are null (run --resume)',
    argv: () => [
      'run',
      '--resume',
      'good',
      '--db',
      dbCopy(
        'optnull.sqlite',
        sql((d) => d.exec(`UPDATE runs SET status = 'interrupted', options = 'null'`)),
      ),
    ],
    code: 2,
    err: /optnull\.sqlite: run "good" \(#1\) has invalid stored options \(not a JSON object\)/,
  },
  {
    name: 'stored options of a run are not JSON (report)',
    argv: () => [
      'report',
      '--run',
      'good',
      '--db',
      dbCopy(
        'optbad.sqlite',
        sql((d) => d.exec(`UPDATE runs SET options = '{not json'`)),
      ),
    ],
    code: 2,
    err: /optbad\.sqlite: run "good" \(#1\) has invalid stored options \(not a JSON object\)/,
  },
];

// A good run exists to break: cases copy goodDb or read it.
setup(async () => {
  assert.equal((await cli('run', '--data', SAMPLE_DATA, '--model', ck, '--languages', 'en', '--limit', '2', '--db', goodDb, '--name', 'good')).code, 0);
});

/** Progress lines a run prints to stderr without a terminal; everything else there must be the one error line. */
const PROGRESS = /^[a-z]{2,3}: \d+(\/\d+)? answers/;
/** The last --db of a command line (commander takes the last). */
const dbOf = (argv: string[]) => argv[argv.lastIndexOf('--db') + 1];
/** Names of the complete runs in a results file, or none when it cannot be read as one. */
function completeRuns(file: string | undefined): string[] {
  if (!file || !existsSync(file) || !statSync(file).isFile()) return [];
  try {
    const d = new Database(file, { readonly: true, fileMustExist: true });
    try {
      return d.prepare(`SELECT name FROM runs WHERE status = 'complete'`).pluck().all() as string[];
    } finally {
      d.close();
    }
  } catch {
    return [];
  }
}

test(`${cases.length} broken inputs: each exits with its code and one line naming the file and line or field`, async () => {
  assert.ok(cases.length >= 100);
  const failures: string[] = [];
  for (const c of cases) {
    const argv = await c.argv();
    const db = argv[0] === 'run' ? dbOf(argv) : undefined;
    const before = completeRuns(db);
    const r = await (c.runner ?? ((a: string[]) => cli(...a)))(argv);
    const lines = r.err
      .trim()
      .split('\n')
      .filter((l) => !PROGRESS.test(l));
    const wrong = [];
    if (r.code !== c.code || !c.err.test(c.code === 0 ? r.err : r.err.trim()) || (c.out && !c.out.test(r.out))) wrong.push('exit code or output');
    if (c.code !== 0 && (lines.length !== 1 || !lines[0].startsWith('error: ') || /internal error/.test(r.err))) wrong.push('not one error line');
    const completed = completeRuns(db).filter((n) => !before.includes(n));
    if (completed.length) wrong.push(`run ${completed.join(', ')} counted as complete`);
    const left = await Promise.resolve()
      .then(c.after)
      .catch((e: Error) => `after: ${e.message}`);
    if (left) wrong.push(left);
    if (wrong.length) failures.push(`${c.name}: ${wrong.join('; ')}: exit ${r.code}, stderr ${JSON.stringify(r.err.trim())}`);
  }
  assert.deepEqual(failures, []);
});
