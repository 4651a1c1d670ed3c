import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDataset } from '../src/data/mlama.js';
import { readLabelIndex } from '../src/data/labels.js';
import { headWidths, loadCheckpoint } from '../src/model/checkpoint.js';
import { openSession } from '../src/model/session.js';
import { scoreQueries } from '../src/model/scorer.js';
import type { BuiltQuery } from '../src/prompts/build.js';
import { languageQueries, type QuerySelection } from '../src/prompts/source.js';
import { loadStyle } from '../src/prompts/styles.js';
import { keysForLabels } from '../src/tokenize/entityLinker.js';
import { SAMPLE_DATA } from './support/cli.js';

// The TypeScript side of `make parity`, without Python: golden fixtures written by tools/parity/golden.py from
// transformers' own classes (MLukeTokenizer, XLMRobertaTokenizer, LukeForMaskedLM in both attention modes,
// XLMRobertaForMaskedLM; RANDOM weights) and exported with tools/export_mluke.py.
const DIR = join(import.meta.dirname, 'fixtures', 'parity');

interface Passes {
  input_ids: number[];
  attention_mask: number[];
  entity_ids: number[];
  entity_position_ids: number[][];
}
interface Family {
  styles: string[];
  inputs?: Record<string, Passes[]>;
  candidates?: Record<string, { tokens: number[][]; entity_ids?: (number | null)[] }>;
  scores: Record<string, { top: [string, number | null][]; gold_rank: number; gold_score: number | null }>;
}
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as { limit: number; families: Record<string, Family> };

function build(family: string, styles: string[], sel: QuerySelection) {
  const ds = openDataset(SAMPLE_DATA);
  const labels = readLabelIndex(ds);
  const ck = loadCheckpoint(join(DIR, family), { entityKeys: keysForLabels(labels.labels) });
  const st = styles.map(loadStyle);
  const queries = ds.languages.flatMap((l) => [...languageQueries(ds, l, ck.tokenizer, ck.entityVocab, labels, st, { ...sel, limit: expected.limit })]);
  return { ck, queries };
}

const keyOf = (b: BuiltQuery) => [b.style.name, b.query.language, b.query.relation, b.query.template, b.query.subject].join('|');

for (const [name, fam] of Object.entries(expected.families)) {
  if (fam.inputs) {
    test(`${name}: with its choices off (--tokenization spans, no fallback) the harness builds exactly transformers' inputs`, () => {
      const { queries } = build(name, fam.styles, { fallback: false, tokenization: 'spans' });
      assert.equal(queries.length, Object.keys(fam.inputs!).length);
      for (const b of queries) {
        const got = b.passes.map((p) => ({
          input_ids: p.inputIds,
          attention_mask: p.inputIds.map(() => 1),
          entity_ids: p.entityIds,
          entity_position_ids: p.entityPositions,
        }));
        assert.deepEqual(got, fam.inputs![keyOf(b)], keyOf(b));
        const want = fam.candidates![`${b.query.language}|${b.query.relation}|${b.query.template}`];
        assert.deepEqual(b.relation.candidates.tokens, want.tokens, keyOf(b));
        if (b.style.head === 'entity')
          assert.deepEqual(
            b.relation.candidates.entities.map((e) => e.id),
            want.entity_ids,
            keyOf(b),
          );
      }
    });
  }

  test(`${name}: the harness's scores equal PyTorch's within 1e-4 and its rankings are identical`, async () => {
    const { ck, queries } = build(name, fam.styles, { fallback: true });
    const session = await openSession(ck, 'gathered', { threads: 1 });
    let n = 0;
    let worst = 0;
    try {
      for await (const batch of scoreQueries(session, queries, { headWidths: headWidths(ck), padEntityId: ck.entityVocab?.special.pad ?? 0 })) {
        for (const s of batch) {
          const want = fam.scores[keyOf(s.built)];
          assert.ok(want, `no expected scores for ${keyOf(s.built)}`);
          assert.deepEqual(
            s.top.map((t) => t.label),
            want.top.map((t) => t[0]),
            keyOf(s.built),
          );
          assert.equal(s.goldRank, want.gold_rank, keyOf(s.built));
          s.top.forEach((t, i) => {
            const w = want.top[i][1];
            if (w === null) assert.equal(t.score, -Infinity, keyOf(s.built));
            else worst = Math.max(worst, Math.abs(t.score - w));
          });
          if (want.gold_score !== null) worst = Math.max(worst, Math.abs(s.goldScore - want.gold_score));
          n++;
        }
      }
    } finally {
      await session.release();
    }
    assert.equal(n, Object.keys(fam.scores).length);
    assert.ok(worst <= 1e-4, `max |harness - torch| ${worst}`);
  });
}

test("the golden fixtures hold each file once: a family whose tokenizer is an earlier one's points at it", () => {
  const seen = new Map<string, string>();
  for (const e of readdirSync(DIR, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    const hash = createHash('sha256').update(readFileSync(path)).digest('hex');
    assert.equal(seen.get(hash), undefined, `${path} repeats ${seen.get(hash)}`);
    seen.set(hash, path);
  }
});
