/**
 * The int8 check's numbers from two stored runs of one checkpoint (float32 and int8, same data and options):
 * each style's P@1 at both precisions, as the report averages it, then one line
 * `int8: p1_float32=<x> p1_int8=<x> p1_diff=<x> top1_agreement=<x>` (make int8-check).
 *
 *   tsx tools/int8-check.ts --db FILE --float32 RUN --int8 RUN
 */
import { parseArgs } from 'node:util';
import { fail, runTool } from '../src/errors.js';
import { runDifferences } from '../src/run/config.js';
import { readResults, requireRun, withStoreSync } from '../src/store/db.js';
import { int8Line, p1ByStyle, top1Agreement } from '../src/report/precision.js';

function main(): void {
  const { values: o } = parseArgs({ options: { db: { type: 'string' }, float32: { type: 'string' }, int8: { type: 'string' } } });
  if (!o.db || !o.float32 || !o.int8) fail('usage: tsx tools/int8-check.ts --db FILE --float32 RUN --int8 RUN');
  withStoreSync(o.db, { readonly: true }, (store) => {
    const [a, b] = [requireRun(store, o.float32!), requireRun(store, o.int8!)];
    for (const [r, want] of [
      [a, 'float32'],
      [b, 'int8'],
    ] as const) {
      if ((r.options.precision ?? 'float32') !== want) fail(`run "${r.name}" ran at precision ${r.options.precision ?? 'float32'}, not ${want}`);
      if (r.status !== 'complete') fail(`run "${r.name}" is ${r.status}, not complete`);
    }
    // compare leaves checkpoints out on purpose (it sets checkpoints side by side); here both runs must be the
    // same checkpoint at two precisions.
    if (a.model_path !== b.model_path) fail(`runs "${a.name}" and "${b.name}" scored different checkpoints (${a.model_path} vs ${b.model_path})`);
    const diffs = runDifferences('compare', a, b);
    if (diffs.length) fail(`runs "${a.name}" and "${b.name}" differ in ${diffs.join('; ')}`);
    const [ra, rb] = [readResults(store, a.id), readResults(store, b.id)];
    const [pa, pb] = [p1ByStyle(ra), p1ByStyle(rb)];
    const t = top1Agreement(rb, ra);
    for (const s of Object.keys(pa))
      console.log(`${s}: P@1 float32 ${(100 * pa[s]).toFixed(1)}%, int8 ${(100 * (pb[s] ?? 0)).toFixed(1)}% (average over languages, as the report gives it)`);
    console.log(`top-1 agreement int8 vs float32: ${t.same}/${t.compared} (style, query) answers`);
    console.log(int8Line(ra, rb));
  });
}

runTool(main);
