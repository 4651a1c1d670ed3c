import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { fail } from '../errors.js';
import type { Checkpoint } from './checkpoint.js';
import type { Variant } from './contract.js';

export interface SessionOptions {
  threads?: number;
  device?: 'cpu' | 'cuda';
}

export interface ModelSession {
  variant: Variant;
  inputNames: readonly string[];
  outputNames: readonly string[];
  run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>>;
  release(): Promise<void>;
}

export function defaultThreads(): number {
  return Math.max(1, availableParallelism());
}

/** Opens one of the checkpoint's graphs and checks it against the manifest. */
export async function openSession(ck: Checkpoint, variant: Variant, o: SessionOptions = {}): Promise<ModelSession> {
  const entry = ck.manifest.graphs[variant];
  if (!entry) fail(`${ck.dir}: the manifest has no "${variant}" graph`);
  const file = join(ck.dir, entry.file);
  const options: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: o.threads ?? defaultThreads(),
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    // Nothing from ORT's own logger: the tied tables are overridable on purpose (see unpackedWeight) and ORT warns
    // about that; its errors reach us as exceptions and become one line.
    logSeverityLevel: 4,
    executionProviders: o.device === 'cuda' ? ['cuda'] : ['cpu'],
  };
  // onnxruntime's environment logger writes its own coloured lines (e.g. a missing CUDA provider library) before
  // the error reaches us; the harness reports that error in one line itself. Set before the first session.
  ort.env.logLevel = 'fatal';
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(file, options);
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    if (o.device === 'cuda')
      fail(`--device cuda: the CUDA execution provider is not available (${msg}); install with npm install --onnxruntime-node-install=cuda12`);
    fail(`${file}: onnxruntime cannot load the graph (${msg})`);
  }
  for (const name of entry.inputs) if (!session.inputNames.includes(name)) fail(`${file}: graph has no input "${name}" that the manifest names`);
  for (const name of entry.outputs) if (!session.outputNames.includes(name)) fail(`${file}: graph has no output "${name}" that the manifest names`);
  for (const name of session.inputNames) if (!entry.inputs.includes(name)) fail(`${file}: graph input "${name}" is not in the manifest`);
  return {
    variant,
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    run: (feeds) => session.run(feeds) as Promise<Record<string, ort.Tensor>>,
    release: () => session.release(),
  };
}

/**
 * The words graph, when the checkpoint has one (LUKE exports) and some style reads the word head without feeding
 * entities: the scorer runs those passes there (ScorerOptions.words). Otherwise undefined.
 */
export async function openWordsSession(
  ck: Checkpoint,
  styles: readonly { head: string; entityInputs: boolean }[],
  o: SessionOptions = {},
): Promise<ModelSession | undefined> {
  if (!ck.manifest.graphs.words || !styles.some((s) => s.head === 'word' && !s.entityInputs)) return undefined;
  return openSession(ck, 'words', o);
}

export { ort };
