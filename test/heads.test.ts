import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CONTRACT } from '../src/model/contract.js';
import { FAMILIES } from '../src/model/families/index.js';
import { HEAD_SPECS } from '../src/model/heads.js';
import type { CandidateTable, Pass } from '../src/prompts/build.js';
import type { EntityLink } from '../src/tokenize/entityLinker.js';
import { HEADS } from '../src/types.js';

const config = { hidden_size: 8, intermediate_size: 16, num_hidden_layers: 2, vocab_size: 100, entity_vocab_size: 50 } as never;
const pass: Pass = { inputIds: [0, 5, 6, 4, 4, 2], maskPositions: [3, 4], entityIds: [7], entityPositions: [[3, 4]], candidates: [0, 1] };

/** The pass's two candidates, two word tokens each; the first has entity 3, the second the entity a test gives it. */
const twoCandidates = (second: EntityLink): CandidateTable => ({
  labels: ['a', 'b'],
  tokens: [
    [11, 12],
    [13, 14],
  ],
  entities: [{ id: 3, via: 'direct' }, second],
  groups: [],
});

test('the head registry holds every head of the contract and of the families, with its contract names', () => {
  assert.deepEqual(Object.keys(HEAD_SPECS).sort(), Object.keys(CONTRACT.heads).sort());
  assert.deepEqual([...HEADS].sort(), Object.keys(HEAD_SPECS).sort());
  for (const f of Object.values(FAMILIES)) for (const h of f.heads) assert.ok(HEAD_SPECS[h], `${f.name}: ${h}`);
  for (const [name, spec] of Object.entries(HEAD_SPECS)) {
    assert.equal(spec.name, name);
    assert.deepEqual(spec.contract, CONTRACT.heads[spec.name]);
  }
});

test('rows read and batch keys: the word head reads every mask, the entity head one slot', () => {
  assert.equal(HEAD_SPECS.word.rowsRead(pass), 2);
  assert.equal(HEAD_SPECS.word.batchKey(pass), 2);
  assert.equal(HEAD_SPECS.entity.rowsRead(pass), 1);
  assert.equal(HEAD_SPECS.entity.batchKey(pass), 0);
  assert.equal(HEAD_SPECS.word.width(config), 100);
  assert.equal(HEAD_SPECS.entity.width(config), 50);
  // A family's FLOPs of a pass are its encoder's plus the head's own.
  const luke = FAMILIES.luke;
  assert.ok(luke.passFlops(config, 'word', pass) - luke.passFlops(config, 'entity', pass) !== 0);
  assert.equal(HEAD_SPECS.word.flops(config, pass), 2 * (2 * 8 * 8 + 2 * 8 * 100));
});

test('each head reads scores back from its own gathered output', () => {
  const candidates = twoCandidates({ id: null, via: 'none' });
  const row = { pass, candidates };
  // [B=1, M=2, K=2]: the word score is the mean over the masks.
  const word = new Float64Array(2).fill(-Infinity);
  HEAD_SPECS.word.collect(new Float32Array([-1, -2, -3, -4]), [1, 2, 2], 0, row, word);
  assert.deepEqual([...word], [-2, -3]);
  // [B=1, slots=1, K=2]: a candidate without an entity id stays unscored, and is not a model failure.
  const entity = new Float64Array(2).fill(-Infinity);
  HEAD_SPECS.entity.collect(new Float32Array([-0.5, -0.25]), [1, 1, 2], 0, row, entity);
  assert.deepEqual([...entity], [-0.5, -Infinity]);
  assert.equal(HEAD_SPECS.entity.mustScore(candidates, 1), false);
  assert.equal(HEAD_SPECS.word.mustScore(candidates, 1), true);
});

test("every head's feeds are the gather inputs of every head of the contract: its own filled, the others empty", () => {
  const candidates = twoCandidates({ id: 4, via: 'direct' });
  const all = Object.values(CONTRACT.heads).flatMap((c) => c.gather_inputs);
  const made: Record<string, number[]> = {};
  const tensor = (name: string, dims: number[], fill: bigint) => {
    made[name] = dims;
    return { data: new BigInt64Array(dims.reduce((a, d) => a * d, 1)).fill(fill), tensor: name };
  };
  for (const spec of Object.values(HEAD_SPECS)) {
    const feeds = spec.feeds([{ pass, candidates }], tensor, 0);
    assert.deepEqual(Object.keys(feeds).sort(), [...all].sort(), spec.name);
    for (const n of all) {
      const own = spec.contract.gather_inputs.includes(n);
      assert.equal(made[n].includes(0), !own, `${spec.name}: ${n} ${made[n]}`);
    }
  }
});
