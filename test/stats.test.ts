import assert from 'node:assert/strict';
import { test } from 'node:test';
import { int8Line, p1OverStyles } from '../src/report/precision.js';
import { groupBy, mean, meanOfDefined, pct } from '../src/stats.js';

test('an empty mean is null, not 0; undefined values are left out, not counted as 0', () => {
  assert.equal(mean([]), null);
  assert.equal(mean([0.25, 0.75, 0.5]), 0.5);
  assert.equal(meanOfDefined([null, undefined]), null);
  assert.equal(meanOfDefined([null, 1, '0.5', undefined]), 0.75);
});

test('P@1 over the styles of a run with no answers is undefined, and the int8 line says so instead of 0', () => {
  assert.equal(p1OverStyles([]), null);
  assert.match(int8Line([], []), /^int8: p1_float32=- p1_int8=- p1_diff=- top1_agreement=0\.0000$/);
});

test('groups keep first-seen order under a composite key that no separator can confuse', () => {
  const xs = [
    { a: 'x', b: 'y|z' },
    { a: 'x|y', b: 'z' },
    { a: 'x', b: 'y|z' },
  ];
  const g = [...groupBy(xs, (x) => [x.a, x.b]).values()];
  assert.deepEqual(
    g.map((v) => v.length),
    [2, 1],
  );
  assert.equal(g[0][0], xs[0]);
});

test('percentages: one-decimal text, whole numbers too, a tie at zero unsigned, - for undefined', () => {
  assert.equal(pct(0.12345), '12.3');
  assert.equal(pct(0.5), '50.0');
  assert.equal(pct(1), '100.0');
  assert.equal(pct(0.12), '12.0');
  assert.equal(pct(-1e-15), '0.0');
  assert.equal(pct(-0.0004), '0.0');
  assert.equal(pct(-0.0006), '-0.1');
  assert.equal(pct(null), '-');
  assert.equal(pct(undefined), '-');
});
