import assert from 'node:assert/strict';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { cli, SAMPLE_DATA, sampleCopy, tempDir } from './support/cli.js';
import { tinyCheckpoint } from './support/fixtures.js';

// A run parses each file of its languages once: the label index, the plan, a shard's cost split and the scoring
// all take them from memory. Counted at the file system: every open of a data file by the JSONL line reader
// (readLines) or the JSON reader; the fingerprint's hashing reads bytes on purpose (at the start and again at the
// end, to see a change) and is not counted.

const ck = tinyCheckpoint(1, false, SAMPLE_DATA);

async function parsesDuring(argv: string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const count = (path: unknown) => {
    const rel = relative(SAMPLE_DATA, String(path));
    if (rel.startsWith('..') || !/\.jsonl?$/.test(rel)) return;
    if (!/\b(readLines|readJsonFile)\b/.test(new Error().stack ?? '')) return;
    counts.set(rel, (counts.get(rel) ?? 0) + 1);
  };
  const { openSync, readFileSync } = fs;
  fs.openSync = ((path: fs.PathLike, flags?: fs.OpenMode, mode?: fs.Mode | null) => {
    count(path);
    return openSync(path, flags as fs.OpenMode, mode);
  }) as typeof fs.openSync;
  fs.readFileSync = ((path: fs.PathOrFileDescriptor, options?: never) => {
    count(path);
    return readFileSync(path, options);
  }) as typeof fs.readFileSync;
  syncBuiltinESMExports();
  try {
    const r = await cli(...argv);
    assert.equal(r.code, 0, r.err);
  } finally {
    fs.openSync = openSync;
    fs.readFileSync = readFileSync;
    syncBuiltinESMExports();
  }
  return counts;
}

function onceEach(counts: Map<string, number>): void {
  const relationFiles = fs
    .readdirSync(join(SAMPLE_DATA, 'en'))
    .filter((f) => f.endsWith('.jsonl'))
    .map((f) => join('en', f));
  assert.ok(relationFiles.length > 1);
  for (const f of relationFiles) assert.ok(counts.has(f), `${f} was read`);
  const more = [...counts].filter(([, n]) => n !== 1);
  assert.deepEqual(more, [], 'every data file parsed exactly once');
}

const run = (...a: string[]) => ['run', '--model', ck, '--data', SAMPLE_DATA, '--threads', '1', '--db', join(tempDir(), 'r.sqlite'), ...a];

test('an unsharded run parses each relation, template and candidate file once', async () => {
  onceEach(await parsesDuring(run('--languages', 'en,ja', '--limit', '2')));
});

test('a sharded run parses each file once, though it costs every query to split them', async () => {
  onceEach(await parsesDuring(run('--languages', 'en,ja', '--limit', '2', '--shard', '1/3')));
});

test('shards parses each file once', async () => {
  onceEach(await parsesDuring(['shards', '--model', ck, '--data', SAMPLE_DATA, '--count', '3']));
});

test('data rewritten after it was read into memory, while the graph loads, fails the run: the fingerprint is of the data read', async () => {
  const data = sampleCopy();
  const relation = join(data, 'en', 'P19.jsonl');
  let rewritten = false;
  const { readFileSync } = fs;
  // The checkpoint is loaded after the label index has read (and held) the data: rewrite a relation file then.
  fs.readFileSync = ((path: fs.PathOrFileDescriptor, options?: never) => {
    if (!rewritten && String(path).startsWith(ck)) {
      rewritten = true;
      fs.appendFileSync(relation, '{"sub_uri": "Q1", "obj_uri": "Q90", "sub_label": "Someone", "obj_label": "Paris", "lineid": 999999}\n');
    }
    return readFileSync(path, options);
  }) as typeof fs.readFileSync;
  syncBuiltinESMExports();
  let r: Awaited<ReturnType<typeof cli>>;
  try {
    r = await cli('run', '--model', ck, '--data', data, '--languages', 'en', '--limit', '1', '--threads', '1', '--db', join(tempDir(), 'r.sqlite'));
  } finally {
    fs.readFileSync = readFileSync;
    syncBuiltinESMExports();
  }
  assert.ok(rewritten, 'the checkpoint was read');
  assert.notEqual(r.code, 0, r.out);
  assert.match(r.err, /its inputs changed while it ran \(dataset en: /);
});
