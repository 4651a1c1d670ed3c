import assert from 'node:assert/strict';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, SAMPLE_DATA, sampleCopy, tempDir } from './support/cli.js';
import { tinyCheckpoint } from './support/fixtures.js';
import { xorshift32 } from '../src/checkpoint-gen/weights.js';

// Mutates real JSONL and JSON files many times. The CLI must never die with an uncaught exception, must answer
// bad input with exit 2 and one line, and must never exit 0 having silently skipped data. The tests try over 1,000
// mutations in all; each asserts that every mutation it planned was tried and that none showed a problem.

type Mutation = (b: Buffer, r: () => number) => Buffer;
const at = (b: Buffer, r: () => number) => Math.floor(r() * Math.max(1, b.length));
const JUNK = ['{', '}', '"', ',', ':', '[', ']', '\\', '\n', '\u0000', 'null', '-1', '1e999', '"[X]"', '"[Y]"', '\ufeff', '\u00e9', '💥'].map((s) =>
  Buffer.from(s),
);
const MUTATIONS: [string, Mutation][] = [
  [
    'flip a byte',
    (b, r) => {
      const c = Buffer.from(b);
      const i = at(c, r);
      c[i] = Math.floor(r() * 256);
      return c;
    },
  ],
  [
    'delete a span',
    (b, r) => {
      const i = at(b, r);
      return Buffer.concat([b.subarray(0, i), b.subarray(i + 1 + Math.floor(r() * 40))]);
    },
  ],
  [
    'insert junk',
    (b, r) => {
      const i = at(b, r);
      return Buffer.concat([b.subarray(0, i), JUNK[Math.floor(r() * JUNK.length)], b.subarray(i)]);
    },
  ],
  ['truncate', (b, r) => b.subarray(0, at(b, r))],
  [
    'duplicate a line',
    (b, r) => {
      const lines = b.toString('utf8').split('\n');
      const i = Math.floor(r() * lines.length);
      lines.splice(i, 0, lines[i]);
      return Buffer.from(lines.join('\n'));
    },
  ],
  [
    'drop a line',
    (b, r) => {
      const lines = b.toString('utf8').split('\n');
      lines.splice(Math.floor(r() * lines.length), 1);
      return Buffer.from(lines.join('\n'));
    },
  ],
  [
    'retype a value',
    (b, r) => {
      const t = b.toString('utf8');
      const ms = [...t.matchAll(/:\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|true|false|null)/g)];
      if (!ms.length) return b;
      const m = ms[Math.floor(r() * ms.length)];
      const by = ['null', '0', '""', '[]', '{}', '"x"', '-7', '1.5', 'true'][Math.floor(r() * 9)];
      return Buffer.from(t.slice(0, m.index!) + ': ' + by + t.slice(m.index! + m[0].length));
    },
  ],
  [
    'remove a key',
    (b, r) => {
      const t = b.toString('utf8');
      const ms = [...t.matchAll(/"(?:[^"\\]|\\.)*"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|true|false|null)\s*,?/g)];
      if (!ms.length) return b;
      const m = ms[Math.floor(r() * ms.length)];
      return Buffer.from(t.slice(0, m.index!) + t.slice(m.index! + m[0].length));
    },
  ],
  ['CRLF and a BOM', (b) => Buffer.concat([Buffer.from('\ufeff'), Buffer.from(b.toString('utf8').replace(/\n/g, '\r\n'))])],
  [
    'invalid UTF-8',
    (b, r) => {
      const i = at(b, r);
      return Buffer.concat([b.subarray(0, i), Buffer.from([0xff, 0xfe, 0xc3]), b.subarray(i)]);
    },
  ],
  ['empty file', () => Buffer.alloc(0)],
  ['a BOM only', (b) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), b])],
  ['labels in NFD', (b) => Buffer.from(b.toString('utf8').normalize('NFD'))],
];

const nonBlankLines = (text: string) => text.split('\n').filter((l) => l.trim() !== '').length;

interface Outcome {
  code: number;
  out: string;
  err: string;
}

/** One fuzz test's verdicts: each test asserts its own, so that a failure names the test that found it. */
class Verdicts {
  readonly problems: string[] = [];
  mutations = 0;

  judge(what: string, r: Outcome): void {
    this.mutations++;
    if (/internal error/.test(r.err) || r.code === 3) this.problems.push(`${what}: died (exit ${r.code}): ${r.err.slice(0, 300)}`);
    else if (r.code !== 0 && r.code !== 2) this.problems.push(`${what}: exit ${r.code}`);
    else if (r.code === 2 && (r.err.trim().split('\n').length !== 1 || !r.err.startsWith('error: ')))
      this.problems.push(`${what}: not one error line: ${JSON.stringify(r.err.slice(0, 300))}`);
  }

  /** Every mutation planned was tried, and none showed a problem. */
  assertClean(planned: number): void {
    assert.equal(this.mutations, planned);
    assert.deepEqual(this.problems, []);
  }
}

const ck = tinyCheckpoint(1, false, SAMPLE_DATA);
const relations = readdirSync(join(SAMPLE_DATA, 'en')).filter((f) => /^P\d+\.jsonl$/.test(f));
const originalLines = Object.fromEntries(relations.map((f) => [f, nonBlankLines(readFileSync(join(SAMPLE_DATA, 'en', f), 'utf8'))]));

test('fuzz the dataset files: relation JSONL, templates, candidate sets (data stats)', async () => {
  const v = new Verdicts();
  const r = xorshift32(20261125);
  const targets = ['en/P19.jsonl', 'en/P103.jsonl', 'en/templates.jsonl', 'TREx_multilingual_objects/en.json'];
  const data = sampleCopy();
  for (let i = 0; i < 700; i++) {
    const file = targets[i % targets.length];
    const [name, mutate] = MUTATIONS[Math.floor(r() * MUTATIONS.length)];
    const original = readFileSync(join(SAMPLE_DATA, file));
    const mutated = mutate(original, r);
    writeFileSync(join(data, file), mutated);
    const what = `#${i} ${file} (${name})`;
    const res = await cli('data', 'stats', '--data', data, '--languages', 'en', '--format', 'json');
    v.judge(what, res);
    if (res.code === 0) {
      // Exit 0: every relation line was read as a triple, or what was left out was reported as a warning.
      const stats = JSON.parse(res.out);
      const en = stats.languages[0];
      const rel = file.match(/^en\/(P\d+\.jsonl)$/)?.[1];
      const expected = relations.reduce((s, f) => s + (f === rel ? nonBlankLines(mutated.toString('utf8')) : originalLines[f]), 0);
      if (stats.warnings.length === 0 && en.triples !== expected)
        v.problems.push(`${what}: exit 0 with ${en.triples} triples of ${expected} lines and no warning`);
      if (stats.warnings.length === 0 && en.relations !== relations.length)
        v.problems.push(`${what}: exit 0 with ${en.relations} of ${relations.length} relations and no warning`);
    }
    writeFileSync(join(data, file), original);
  }
  v.assertClean(700);
});

test('fuzz the checkpoint files: tokenizer, entity vocabulary, config, manifest (prompts)', async () => {
  const v = new Verdicts();
  const r = xorshift32(7);
  const targets = ['tokenizer.json', 'entity_vocab.json', 'config.json', 'mlama-checkpoint.json'];
  const dir = join(tempDir(), 'ck');
  cpSync(ck, dir, { recursive: true });
  for (let i = 0; i < 300; i++) {
    const file = targets[i % targets.length];
    const [name, mutate] = MUTATIONS[Math.floor(r() * MUTATIONS.length)];
    const original = readFileSync(join(ck, file));
    writeFileSync(join(dir, file), mutate(original, r));
    v.judge(
      `#${i} ${file} (${name})`,
      await cli('prompts', '--data', SAMPLE_DATA, '--model', dir, '--language', 'en', '--relation', 'P19', '--style', 'entity', '--limit', '1'),
    );
    writeFileSync(join(dir, file), original);
  }
  v.assertClean(300);
});

test('fuzz end to end: a mutated relation file or checkpoint through mlama run', async () => {
  const v = new Verdicts();
  const r = xorshift32(99);
  const data = sampleCopy();
  const dir = join(tempDir(), 'ck');
  cpSync(ck, dir, { recursive: true });
  const targets: [string, string][] = [
    [data, 'en/P19.jsonl'],
    [data, 'en/templates.jsonl'],
    [dir, 'entity_vocab.json'],
    [dir, 'config.json'],
  ];
  for (let i = 0; i < 60; i++) {
    const [root, file] = targets[i % targets.length];
    const [name, mutate] = MUTATIONS[Math.floor(r() * MUTATIONS.length)];
    const source = root === data ? SAMPLE_DATA : ck;
    const original = readFileSync(join(source, file));
    writeFileSync(join(root, file), mutate(original, r));
    const db = join(tempDir(), 'fuzz.sqlite');
    const what = `#${i} ${file} (${name})`;
    const res = await cli('run', '--data', data, '--model', dir, '--languages', 'en', '--relations', 'P19,P103', '--limit', '3', '--db', db, '--name', 'f');
    v.judge(what, res);
    if (res.code === 0 && !/run "f" complete: (\d+)\/\1 answers/.test(res.out))
      v.problems.push(`${what}: exit 0 without a complete run: ${res.out.slice(-200)}`);
    writeFileSync(join(root, file), original);
  }
  v.assertClean(60);
});

test('fuzz the options: selections, gate thresholds, threads, names, formats (run and compare)', async () => {
  const v = new Verdicts();
  const r = xorshift32(15);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const db = join(tempDir(), 'opts.sqlite');
  assert.equal(
    (await cli('run', '--data', SAMPLE_DATA, '--model', ck, '--languages', 'en', '--limit', '1', '--styles', 'word', '--db', db, '--name', 'base')).code,
    0,
  );
  const choices: [string, string[]][] = [
    ['--languages', ['en', 'en,en', '', ',', 'xx', 'en,ja', 'EN', 'en,,ja']],
    ['--relations', ['P19', 'P9999', 'p19', 'P19,P19', '', 'P19,P36', 'P19 ,P36']],
    ['--styles', ['word', 'word,word', '', 'entity', 'nope', 'word,entity,word']],
    ['--threads', ['1', '0', '-1', '999', 'abc', '2', '1.5']],
    ['--name', ['1', 'latest', '', '007', 'ok']],
    ['--limit', ['1', '0', '-3', 'x', '2']],
  ];
  for (let i = 0; i < 40; i++) {
    const args = ['run', '--data', SAMPLE_DATA, '--model', ck, '--db', join(tempDir(), 'o.sqlite'), '--languages', 'en', '--limit', '1', '--styles', 'word'];
    for (const [flag, values] of choices) if (r() < 0.4) args.push(flag, pick(values));
    const what = `options #${i}: ${args.slice(6).join(' ')}`;
    const res = await cli(...args);
    v.judge(what, res);
    if (res.code === 0 && !/run "[^"]+" complete: (\d+)\/\1 answers/.test(res.out)) v.problems.push(`${what}: exit 0 without a complete run`);
  }
  for (let i = 0; i < 20; i++) {
    const threshold = pick(['abc', '1pt', '1,5', '-1', 'NaN', '', '1e3', '2', '0.5', ' 3', 'Infinity', '0x10']);
    const format = pick(['table', 'json', 'xml', 'csv', '']);
    const res = await cli('compare', 'base', 'base', '--db', db, '--fail-on-drop', threshold, '--format', format);
    v.judge(`compare --fail-on-drop ${JSON.stringify(threshold)} --format ${JSON.stringify(format)}`, res);
    if (res.code === 0 && !/^(\d+(\.\d+)?|\s*\d+)$/.test(threshold)) v.problems.push(`compare accepted --fail-on-drop ${JSON.stringify(threshold)}`);
  }
  v.assertClean(60);
});

// Checkpoint values that parse as JSON but break the contract (issue 15, items 7 and 14): position table sizes,
// added_tokens shapes, a <mask> id colliding with another token, entity-vocabulary keys and ids. Each kind is
// tried with every value listed (its place in a file drawn at random), not a random sample of them.
type Edit = (text: string, r: () => number) => string;
const onJson =
  (edit: (v: any, r: () => number) => void): Edit =>
  (text, r) => {
    const v = JSON.parse(text);
    edit(v, r);
    return JSON.stringify(v);
  };
const randomKey = (v: object, r: () => number) => Object.keys(v)[Math.floor(r() * Object.keys(v).length)];
const CHECKPOINT_EDITS: [string, string, Edit][] = [
  ...[8, -5, 0, 1, 3, 1.5, '130', null, 1e9, 129, 131, true].map((n): [string, string, Edit] => [
    'config.json',
    `max_position_embeddings ${JSON.stringify(n)}`,
    onJson((c) => {
      c.max_position_embeddings = n;
    }),
  ]),
  ...(['object', 'null', 'empty', 'string', 'holding null', 'holding a number', 'id as a string'] as const).map((shape): [string, string, Edit] => [
    'tokenizer.json',
    `added_tokens ${shape}`,
    onJson((t) => {
      const [a, ...rest] = t.added_tokens;
      t.added_tokens = {
        object: { '<mask>': 8001 },
        null: null,
        empty: [],
        string: 'added',
        'holding null': [null, a, ...rest],
        'holding a number': [1, a, ...rest],
        'id as a string': [{ ...a, id: String(a.id) }, ...rest],
      }[shape];
    }),
  ]),
  ...(['content', 'id'] as const).map((field): [string, string, Edit] => [
    'tokenizer.json',
    `an added token without ${field}`,
    onJson((t, r) => {
      delete t.added_tokens[Math.floor(r() * t.added_tokens.length)][field];
    }),
  ]),
  ...['ordinary', 0, 1, 3, -1, 8002, 1e9, 2.5].map((id): [string, string, Edit] => [
    'tokenizer.json',
    `<mask> id ${id}`,
    onJson((t, r) => {
      t.added_tokens.find((a: any) => a.content === '<mask>').id = id === 'ordinary' ? 4 + Math.floor(r() * 7990) : id;
    }),
  ]),
  ['tokenizer.json', 'a second <mask> at an ordinary id', onJson((t) => t.added_tokens.push({ ...t.added_tokens.at(-1), id: 100 }))],
  ...['\\q', '\\u12', '\\x41', '\\', '\\u{1F4A5}', '\\ud800'].map((esc): [string, string, Edit] => [
    'entity_vocab.json',
    `escape ${esc} in a key`,
    (text, r) => {
      const keys = [...text.matchAll(/"(?:[^"\\]|\\.)*"\s*:/g)];
      const k = keys[Math.floor(r() * keys.length)];
      const at = k.index! + 1 + Math.floor(r() * (k[0].length - 3));
      return text.slice(0, at) + esc + text.slice(at);
    },
  ]),
  ...[366, 367, 5000, -1, 1.5, 2 ** 31, 2 ** 53].map((id): [string, string, Edit] => [
    'entity_vocab.json',
    `entity id ${id}`,
    onJson((v, r) => {
      v[randomKey(v, r)] = id;
    }),
  ]),
  ...['[PAD]', '[UNK]', '[MASK]'].flatMap((k) =>
    [0, 1, 2, 3].map((id): [string, string, Edit] => [
      'entity_vocab.json',
      `${k} on id ${id}`,
      onJson((v) => {
        v[k] = id;
      }),
    ]),
  ),
];

test('fuzz checkpoint values through mlama run: position tables, added_tokens, <mask> ids, entity vocabulary keys and ids', async () => {
  const v = new Verdicts();
  const r = xorshift32(1515);
  const dir = join(tempDir(), 'ck');
  cpSync(ck, dir, { recursive: true });
  for (const [file, name, edit] of CHECKPOINT_EDITS) {
    const original = readFileSync(join(ck, file), 'utf8');
    writeFileSync(join(dir, file), edit(original, r));
    const what = `${file} (${name})`;
    const db = join(tempDir(), 'ck.sqlite');
    const res = await cli('run', '--data', SAMPLE_DATA, '--model', dir, '--languages', 'en', '--relations', 'P19', '--limit', '2', '--db', db, '--name', 'f');
    v.judge(what, res);
    if (res.code === 0 && !/run "f" complete: (\d+)\/\1 answers/.test(res.out))
      v.problems.push(`${what}: exit 0 without a complete run: ${res.out.slice(-200)}`);
    writeFileSync(join(dir, file), original);
  }
  v.assertClean(CHECKPOINT_EDITS.length);
});
