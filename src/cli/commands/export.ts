import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ExitStatus, fail } from '../../errors.js';
import type { Io } from '../io.js';
import { packageRoot } from '../../paths.js';

/** The checkout holding this module (src/ under tsx, dist/src/ when built): the folder with the exporter script. */
export function checkoutRoot(from = import.meta.dirname): string {
  const root = packageRoot(from);
  if (!existsSync(join(root, 'tools', 'export_mluke.py'))) fail(`no tools/export_mluke.py in ${root}: mlama export runs from a checkout of mlama-harness`);
  return root;
}

/** The pinned Python environment: the interpreter MLAMA_PYTHON names, else the checkout's .venv. */
export function exporterPython(root: string, env: NodeJS.ProcessEnv = process.env): string {
  const named = env.MLAMA_PYTHON;
  if (named) {
    if (!existsSync(named)) fail(`MLAMA_PYTHON=${named}: no such interpreter`);
    return named;
  }
  const venv = join(root, '.venv', 'bin', 'python');
  if (!existsSync(venv)) fail(`${venv}: missing; the exporter needs the checkout's Python environment: run \`make python-env\` in ${root}`);
  return venv;
}

/** Runs the exporter, passing its lines through; its exit status is the command's (2: the input was refused). */
function runExporter(python: string, args: string[], io: Io): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-W', 'ignore', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const relay = (write: (t: string) => void) => {
      let rest = '';
      return {
        chunk: (b: Buffer) => {
          const lines = (rest + b.toString('utf8')).split('\n');
          rest = lines.pop()!;
          for (const l of lines) write(l);
        },
        end: () => rest && write(rest),
      };
    };
    const out = relay((t) => io.out(t));
    const err = relay((t) => io.err(t));
    child.stdout.on('data', out.chunk);
    child.stderr.on('data', err.chunk);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      out.end();
      err.end();
      resolve(code ?? (signal ? 3 : 1));
    });
  });
}

export function registerExport(program: Command, io: Io): void {
  program
    .command('export')
    .description('export a transformers directory written by save_pretrained (mLUKE, XLM-R, mBERT) into a harness checkpoint')
    .argument('<src>', 'directory written by save_pretrained (model and tokenizer)')
    .argument('<out>', 'checkpoint directory to write (moved into place only after the export passed its check)')
    .option('--entity-vocab <file>', "entity vocabulary to use instead of the tokenizer's (.json, or LUKE's .jsonl)")
    .option('--tolerance <x>', 'largest |onnxruntime - torch| the export accepts', '1e-3')
    .option('--random-weights', 'the source has random weights: the manifest says so and reports warn')
    .action(async (src: string, out: string, o: { entityVocab?: string; tolerance: string; randomWeights?: boolean }) => {
      if (!/^\d+(\.\d+)?(e-?\d+)?$/i.test(o.tolerance)) fail(`--tolerance must be a non-negative number such as 1e-3, got "${o.tolerance}"`);
      const root = checkoutRoot();
      const python = exporterPython(root);
      const args = [join(root, 'tools', 'export_mluke.py'), src, out, '--tolerance', o.tolerance];
      if (o.entityVocab) args.push('--entity-vocab', o.entityVocab);
      if (o.randomWeights) args.push('--random-weights');
      const code = await runExporter(python, args, io);
      if (code !== 0) throw new ExitStatus(code);
    });
}
