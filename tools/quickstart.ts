/**
 * `make quickstart`: runs the README's quickstart commands verbatim, as a new user would, in a temporary work
 * folder that holds what the README tells them to fetch: hub-style model directories written by transformers'
 * save_pretrained (tiny, RANDOM weights; tools/quickstart_hub.py), the official mLAMA 1.1 layout rebuilt from the
 * bundled sample (tools/make-official-layout.ts), and `mlama` on PATH (a shim for what `npm link` installs).
 * Ends with one line:
 *   quickstart: <n> README commands ran; exported 3 models; paper table <languages> x <columns>; compare A vs B p=<p>
 *
 *   tsx tools/quickstart.ts [--fill] [--keep]
 * --fill writes each block's real output into the README's `<!-- output: NAME -->` block; --keep keeps the folder.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fail, runTool } from '../src/errors.js';
import { commandStarting, comparePValue, fillOutputs, paperTableShape, quickstartBlocks, summaryLine } from './quickstart-readme.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const README = join(ROOT, 'README.md');
const SAMPLE = join(ROOT, 'datasets', 'mlama-sample');

/** A setup step of the harness's own (not a README command): it must succeed, or the quickstart stops naming it. */
function setup(what: string, cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, TRANSFORMERS_VERBOSITY: 'error' } });
  if (r.status !== 0)
    fail(
      `quickstart setup: ${what} failed (${cmd} ${args.join(' ')}, exit ${r.status}): ${(r.stderr || r.stdout || String(r.error)).trim().split('\n').slice(-3).join(' | ')}`,
    );
  process.stdout.write(r.stdout);
}

/** The work folder: hub directories, the official layout under mlama/data (the builder writes DIR/data), and a PATH folder with `mlama`. */
function prepare(work: string): string {
  const python = process.env.MLAMA_PYTHON ?? join(ROOT, '.venv', 'bin', 'python');
  if (!existsSync(python)) fail(`quickstart: ${python} missing; run make python-env`);
  if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'))) fail('quickstart: dist/ missing; run make build');
  setup('the hub-style models', python, ['-W', 'ignore', join(ROOT, 'tools', 'quickstart_hub.py'), '--data', SAMPLE, '--out', join(work, 'hub')], work);
  const layout = join(ROOT, 'tools', 'make-official-layout.ts');
  if (!existsSync(layout)) fail(`quickstart: ${layout} missing (the builder of mLAMA 1.1's official layout from the sample)`);
  setup('the official mLAMA 1.1 layout', process.execPath, ['--import', 'tsx', layout, join(work, 'mlama')], ROOT);
  const bin = join(work, '.bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'mlama'), `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'bin', 'mlama.js')}" "$@"\n`);
  chmodSync(join(bin, 'mlama'), 0o755);
  return bin;
}

/** One README command under bash in the work folder, stdout and stderr interleaved as a terminal shows them. */
function runCommand(cmd: string, work: string, bin: string, echo = true): string {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
  // What the README promises must hold without the variables a developer may have set.
  delete env.MLAMA_PYTHON;
  const r = spawnSync('bash', ['-c', `exec 2>&1; ${cmd}`], { cwd: work, env, encoding: 'utf8', maxBuffer: 1 << 28 });
  const out = r.stdout ?? '';
  process.stdout.write(`$ ${cmd}\n${echo || r.status !== 0 ? out : `(${out.length} bytes of JSON)\n`}`);
  if (r.status !== 0) fail(`quickstart: README command failed (exit ${r.status ?? r.signal}): ${cmd}`, 1);
  return out;
}

function json(cmd: string, work: string, bin: string): unknown {
  const out = runCommand(`${cmd} --format json 2> /dev/null`, work, bin, false);
  try {
    return JSON.parse(out);
  } catch {
    return fail(`quickstart: "${cmd} --format json" printed no JSON document`, 1);
  }
}

function main(): void {
  const { values: o } = parseArgs({ options: { fill: { type: 'boolean' }, keep: { type: 'boolean' } } });
  const readme = readFileSync(README, 'utf8');
  const blocks = quickstartBlocks(readme);
  const work = mkdtempSync(join(tmpdir(), 'mlama-quickstart-'));
  let ok = false;
  try {
    const bin = prepare(work);
    const outputs: Record<string, { command: string; output: string }[]> = {};
    let n = 0;
    for (const b of blocks) {
      outputs[b.name] = b.commands.map((command) => ({ command, output: runCommand(command, work, bin) }));
      n += b.commands.length;
    }
    const exports = blocks.flatMap((b) => b.commands).filter((c) => c.startsWith('mlama export '));
    const exported = exports.filter((c) => existsSync(join(work, c.split(/\s+/)[3] ?? '', 'mlama-checkpoint.json'))).length;
    const shape = paperTableShape(json(commandStarting(blocks, 'mlama report --runs'), work, bin));
    const compare = commandStarting(blocks, 'mlama compare ');
    const p = comparePValue(json(compare, work, bin));
    if (o.fill) writeFileSync(README, fillOutputs(readme, outputs));
    console.log(summaryLine(n, exported, shape, compare.split(/\s+/).slice(2, 4).join(' vs '), p));
    ok = true;
  } finally {
    if (ok && !o.keep) rmSync(work, { recursive: true, force: true });
    else console.error(`quickstart: work folder kept: ${work}`);
  }
}

runTool(main);
