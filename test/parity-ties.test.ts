import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

// make parity compares every stored ranking with transformers' (tools/parity/ranking.py): an order that differs
// only between candidates whose scores lie within the score tolerance is a near tie (float noise: on another machine
// the same prompt came out `xlmr rankings 375/376` with max |harness - torch| 9.54e-07), counted apart, not failed.
const ROOT = join(import.meta.dirname, '..');

function verdicts(cases: [(number | null)[], number[], number[], number, Record<number, number>?][]): string[] {
  const r = spawnSync(
    'python3',
    [
      '-c',
      `import json, sys; sys.path.insert(0, 'tools/parity'); from ranking import compare
print(json.dumps([compare(ref, golds, top, rank, 1e-4, {int(k): v for k, v in (h or {}).items()}) for ref, golds, top, rank, h in json.loads(sys.argv[1])]))`,
      JSON.stringify(cases.map((c) => [c[0], c[1], c[2], c[3], c[4] ?? null])),
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('rankings that differ only between candidates within the score tolerance are near ties, not differences', () => {
  assert.deepEqual(
    verdicts([
      // the same order and gold rank
      [[-1, -2, -3], [0], [0, 1, 2], 1],
      // two candidates 9.5e-7 apart swapped by float noise, the gold among them
      [[-1.0, -1.00000095, -3], [0], [1, 0, 2], 2],
      // the gold ranked first by the harness, a hair below another candidate in torch
      [[-1.0, -1.00000005, -5], [1], [1, 0, 2], 1],
      // torch's scores 2e-4 apart, the harness's own within the tolerance: a tie on the harness's side
      [[-1.0, -1.0002, -5], [2], [1, 0, 2], 3, { 0: -1.00009, 1: -1.00008, 2: -5 }],
      // the 10th and 11th candidates within the tolerance: which one the top list keeps is a tie
      [[-1, -2, -3.00000002, -3], [0], [0, 1, 2], 1],
      // the same order as torch's, but resting on a near tie: counted as one on every machine
      [[-1.0, -1.00000095, -3], [0], [0, 1, 2], 1],
    ]),
    ['identical', 'near-tie', 'near-tie', 'near-tie', 'near-tie', 'near-tie'],
  );
});

test('an order or gold rank beyond the tolerance is a difference', () => {
  assert.deepEqual(
    verdicts([
      [[-1, -1.5, -3], [0], [1, 0, 2], 2],
      [[-1, -2, -3], [0], [0, 1, 2], 2],
      [[-1.0, -1.00000095, -3], [0], [0, 1, 2], 3],
      [[-1, null, -3], [0], [0, 1, 2], 1],
      [[-1, -2, -3, -3.5], [0], [0, 1, 3], 1],
    ]),
    ['differs', 'differs', 'differs', 'differs', 'differs'],
  );
});
