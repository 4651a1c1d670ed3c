// Issue 34's check: the public scripts themselves against the harness's presets, on a checkpoint trained here.
//   node --import tsx tools/protocols/check.ts [--model CK --hf HF_DIR --data FLAT --work DIR --languages en,ja,ar,zh]
// Prints per mode and language what agreed, every disagreement beyond tolerance, and one last line:
// protocols: authors-script top1_equal=<n>/<m> p_at_k_equal=<yes|no> mlama top1_equal=<n>/<m> paper_vs_authors_p1_delta=<x>
import { join } from 'node:path';
import { authorsOptions, checkAuthorsScript } from './authors-script.js';
import { checkMlamaOriginal } from './mlama-original.js';

const o = authorsOptions(process.argv.slice(2));
let a: ReturnType<typeof checkAuthorsScript>;
try {
  a = checkAuthorsScript(o);
} catch (e) {
  // A failed child has printed its own one-line error on stderr: say only that the check stopped there.
  const status = (e as { status?: number | null }).status;
  if (typeof status === 'number') console.error(`error: the authors' script check stopped (exit ${status})`);
  else console.error(`error: the authors' script check stopped: ${(e as Error).message.split('\n')[0]}`);
  process.exit(1);
}
for (const l of a.layout.leftOut) console.log(`left out (the script stops on [Y] before [X]): ${l.language} ${l.relation}, ${l.triples} triples`);
console.log(
  `added to candidate files (the script asserts they are there): ${Object.values(a.layout.objectsAdded).reduce((n, x) => n + x, 0)} objects, ${a.layout.subjectsAdded} subjects`,
);
let top1 = 0;
let total = 0;
let pAtKEqual = true;
for (const { mode, language, agreement: g } of a.agreements) {
  top1 += g.top1Equal;
  total += g.questions + g.onlyTheirs.length + g.onlyOurs.length;
  // Equal: the same count, or both within what the near ties allow (a tie's order is the script's reading order).
  const within = (x: (typeof g.pAtK)[number], v: number) => v >= x.span[0] && v <= x.span[1];
  const p = g.pAtK.map((x) => `P@${x.k} ${x.theirs}${x.theirs === x.ours ? '' : `/${x.ours} (ties allow ${x.span.join('-')})`}`).join(' ');
  if (g.pAtK.some((x) => x.theirs !== x.ours && !(within(x, x.theirs) && within(x, x.ours))) || g.onlyTheirs.length || g.onlyOurs.length) pAtKEqual = false;
  console.log(
    `authors-script ${mode} ${language}: ${g.questions} questions (${g.onlyTheirs.length} only theirs, ${g.onlyOurs.length} only ours); answer ${g.answerEqual}, top-1 ${g.top1Equal} (${g.top1NearTies} near ties), gold rank ${g.rankEqual} (${g.rankNearTies} near ties) equal; printed hits ${p}`,
  );
  for (const d of g.differences.slice(0, 5)) console.log(`  differs: ${d}`);
}
let m: Awaited<ReturnType<typeof checkMlamaOriginal>>;
try {
  m = await checkMlamaOriginal({ data: o.data, work: join(o.work, '..', 'mlama'), languages: o.languages });
} catch (e) {
  console.error(`error: the mLAMA scripts' check stopped: ${(e as Error).message.split('\n')[0]}`);
  process.exit(1);
}
for (const n of m.notes) console.log(n);
console.log(`mlama: top-1 ${m.top1Equal}/${m.total} equal (${m.nearTies} near ties); P@1 per relation and language equal: ${m.p1Equal ? 'yes' : 'no'}`);
const delta = a.paperMinusAuthorsP1;
console.log(
  `protocols: authors-script top1_equal=${top1}/${total} p_at_k_equal=${pAtKEqual ? 'yes' : 'no'} mlama top1_equal=${m.top1Equal}/${m.total} paper_vs_authors_p1_delta=${delta >= 0 ? '+' : ''}${delta.toFixed(1)}`,
);
