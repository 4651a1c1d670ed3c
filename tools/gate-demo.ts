/**
 * The regression gate on checkpoints trained here (make gate-demo): the committed known-answer checkpoint as the
 * baseline, a clean retrain with another seed, and a retrain with one language's facts taught wrong (a planted
 * regression), all run on one seeded sample; then the same at a sample too small to show the allowed drop, and
 * null comparisons drawn with the clean retrain's observed discordance. Last line:
 * `gate: planted=<lang> caught=yes false_alarms=0/<cells> clean_retrain=pass inconclusive_at_n=<n> fwer=<x> sample=<n> minutes=<m>`
 *
 *   tsx tools/gate-demo.ts --baseline DIR --clean DIR --planted DIR --planted-language ja --data DIR --db FILE
 *     --gate FILE [--small N] [--simulations 2000]
 */
import { parseArgs } from 'node:util';
import { fail, runTool } from '../src/errors.js';
import { main } from '../src/cli/main.js';
import { readPolicy } from '../src/gate/policy.js';
import { simulateNull } from '../src/gate/simulate.js';
import type { CellVerdict } from '../src/gate/gate.js';

interface Gate {
  outcome: string;
  cells: CellVerdict[];
  pooled: { outcome: string };
}

/** The CLI in this process: its output echoed, its exit code returned. */
async function mlama(argv: string[], echo = true): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await main(argv, {
    out: (t) => {
      out += `${t}\n`;
      if (echo) console.log(t);
    },
    err: (t) => console.error(t),
    tty: false,
  });
  return { code, out };
}

async function demo(): Promise<string> {
  const { values: o } = parseArgs({
    options: Object.fromEntries(
      ['baseline', 'clean', 'planted', 'planted-language', 'data', 'db', 'gate', 'small', 'simulations', 'tag'].map((k) => [k, { type: 'string' as const }]),
    ),
  });
  for (const k of ['baseline', 'clean', 'planted', 'planted-language', 'data', 'db', 'gate'])
    if (!o[k]) fail(`usage: tsx tools/gate-demo.ts --${k} is missing (see the file's header)`);
  const policy = readPolicy(o.gate!);
  if (!policy.sample) fail(`${o.gate}: the demo needs a sample field`);
  const sample = policy.sample;
  const small = Number(o.small ?? 5);
  const tag =
    o.tag ??
    new Date()
      .toISOString()
      .replace(/[-:.TZ]/g, '')
      .slice(0, 14);
  const planted = o['planted-language']!;
  const run = async (model: string, name: string, size: number) => {
    const r = await mlama(
      ['run', '--model', model, '--data', o.data!, '--db', o.db!, '--name', name, '--sample', String(size), '--seed', String(sample.seed)],
      false,
    );
    if (r.code !== 0) fail(`run ${name} failed (exit ${r.code})`);
    console.log(r.out.trim().split('\n').at(-1));
  };
  const gate = async (a: string, b: string): Promise<Gate> => {
    await mlama(['compare', a, b, '--db', o.db!, '--gate', o.gate!]);
    const j = await mlama(['compare', a, b, '--db', o.db!, '--gate', o.gate!, '--format', 'json'], false);
    return JSON.parse(j.out).gate as Gate;
  };

  const names = { base: `gate-${tag}-baseline`, clean: `gate-${tag}-clean`, planted: `gate-${tag}-planted` };
  await run(o.baseline!, names.base, sample.size);
  const started = Date.now();
  await run(o.clean!, names.clean, sample.size);
  const clean = await gate(names.base, names.clean);
  const minutes = (Date.now() - started) / 60000;
  await run(o.planted!, names.planted, sample.size);
  const plantedGate = await gate(names.base, names.planted);

  const flagged = plantedGate.cells.filter((c) => c.outcome === 'regressed');
  const caught = flagged.some((c) => c.language === planted);
  const falseAlarms = flagged.filter((c) => c.language !== planted).length + clean.cells.filter((c) => c.outcome === 'regressed').length;
  const cells = plantedGate.cells.length + clean.cells.length;
  console.log(`planted regression in ${planted}: flagged ${flagged.map((c) => `${c.language}/${c.style}`).join(', ') || 'nothing'}`);
  console.log(`clean retrain: ${clean.outcome} (${clean.cells.map((c) => `${c.language}/${c.style} ${c.outcome}`).join(', ')})`);

  // The same comparison at a sample too small to show the allowed drop.
  const tiny = { base: `${names.base}-n${small}`, clean: `${names.clean}-n${small}` };
  await run(o.baseline!, tiny.base, small);
  await run(o.clean!, tiny.clean, small);
  // The gate file pins its sample size, so the small runs are judged with its alpha, power and allowed drop as flags.
  const flags = ['--alpha', String(policy.alpha), '--power', String(policy.power), '--fail-on-drop', String(policy.max_drop.default)];
  await mlama(['compare', tiny.base, tiny.clean, '--db', o.db!, ...flags]);
  const smallGate = JSON.parse((await mlama(['compare', tiny.base, tiny.clean, '--db', o.db!, ...flags, '--format', 'json'], false)).out).gate as Gate;

  const simulations = Number(o.simulations ?? 2000);
  const nulls = simulateNull(
    clean.cells.map((c) => ({ language: c.language, paired: c.paired, discordance: (c.losses + c.gains) / c.paired })),
    policy,
    simulations,
  );
  const fwer = nulls.alarmsAnyDrop / simulations;
  console.log(
    `null comparisons: ${simulations} draws with the clean retrain's per-cell size and discordance; any significant drop (allowed 0) in ${nulls.alarmsAnyDrop} (family-wise rate ${fwer.toFixed(4)}, alpha ${policy.alpha}); a drop past the gate file's allowance in ${nulls.alarms}`,
  );
  console.log(`minutes: evaluating the clean retrain on the sample and gating it took ${minutes.toFixed(2)} min on this machine`);
  const ok = caught && falseAlarms === 0 && clean.outcome === 'pass' && smallGate.outcome === 'inconclusive' && fwer <= policy.alpha;
  const line = `gate: planted=${planted} caught=${caught ? 'yes' : 'no'} false_alarms=${falseAlarms}/${cells} clean_retrain=${clean.outcome} inconclusive_at_n=${smallGate.outcome === 'inconclusive' ? small : 'none'} fwer=${fwer.toFixed(4)} sample=${sample.size} minutes=${minutes.toFixed(2)}`;
  if (!ok) {
    console.log(line);
    fail('the gate demo did not show what it must (see above)', 1);
  }
  return line;
}

runTool(() => {
  demo().then(
    (line) => console.log(line),
    (e) => {
      console.error(`error: ${(e as Error).message}`);
      process.exit((e as { exitCode?: number }).exitCode ?? 3);
    },
  );
});
