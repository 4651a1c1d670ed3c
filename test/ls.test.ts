import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FAMILIES } from '../src/model/families/index.js';
import { availableStyles, loadStyle } from '../src/prompts/styles.js';
import { FORMATS } from '../src/report/formatOption.js';
import { REPORT_FORMATS } from '../src/report/formats.js';
import { COMPARE_METRICS, METRICS } from '../src/report/metrics.js';
import { cli } from './support/cli.js';

// What each listing must hold, read from the registry it lists: adding to a registry needs no edit here.
const EXPECTED: Record<string, { key: string; rows: Record<string, unknown>[] }> = {
  families: { key: 'name', rows: Object.entries(FAMILIES).map(([name, f]) => ({ name, heads: [...f.heads], model_types: [...f.modelTypes] })) },
  styles: {
    key: 'name',
    rows: availableStyles()
      .map((f) => loadStyle(f))
      .map((s) => ({ name: s.name, head: s.head })),
  },
  metrics: {
    key: 'key',
    rows: METRICS.map((m) => ({
      key: m.key,
      label: m.label,
      aggregate: m.aggregate,
      higher_is_better: m.higherIsBetter,
      compare: COMPARE_METRICS.includes(m),
    })),
  },
  formats: { key: 'name', rows: Object.keys(FORMATS).map((name) => ({ name, report: Object.hasOwn(REPORT_FORMATS, name) })) },
};

for (const [table, want] of Object.entries(EXPECTED)) {
  test(`mlama ls ${table} --format json lists every entry of the registry, in its order`, async () => {
    const r = await cli('ls', table, '--format', 'json');
    assert.equal(r.code, 0, r.err);
    const got = JSON.parse(r.out) as Record<string, unknown>[];
    assert.ok(want.rows.length > 0);
    assert.deepEqual(
      got.map((g) => Object.fromEntries(Object.keys(want.rows[0]).map((k) => [k, g[k]]))),
      want.rows,
    );
  });

  test(`mlama ls ${table} prints a table with a row per entry`, async () => {
    const r = await cli('ls', table);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split('\n');
    for (const row of want.rows) {
      const name = String(row[want.key]);
      assert.ok(
        lines.some((l) =>
          l
            .split('│')
            .map((c) => c.trim())
            .includes(name),
        ),
        `no row for ${name} in:\n${r.out}`,
      );
    }
  });
}

test('mlama ls of an unknown table refuses in one line naming the known ones, exit 2', async () => {
  const r = await cli('ls', 'kettles');
  assert.equal(r.code, 2);
  assert.equal(r.err.trim().split('\n').length, 1);
  assert.match(r.err, /no table "kettles"; known: families, styles, metrics, formats/);
});
