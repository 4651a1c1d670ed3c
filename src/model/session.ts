import { availableParallelism } from 'node:os';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import onnxProto from 'onnx-proto';
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
    fail(externalDataProblem(file) ?? `${file}: onnxruntime cannot load the graph (${msg.length > 240 ? `${msg.slice(0, 240)}...` : msg})`);
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

/** Graphs above this size hold their weights inline: nothing external to check. */
const EXTERNAL_CHECK_LIMIT = 64 * 2 ** 20;

/**
 * Why a graph's external weights cannot be read, in one line naming the file: missing, or shorter than the bytes
 * the graph reads from it (a truncated copy or download). Null when they look whole, or the graph is not decodable.
 */
export function externalDataProblem(graphFile: string): string | null {
  if (!existsSync(graphFile) || statSync(graphFile).size > EXTERNAL_CHECK_LIMIT) return null;
  let inits: { name?: string | null; dataLocation?: number | null; externalData?: { key?: string | null; value?: string | null }[] | null }[];
  try {
    inits = onnxProto.onnx.ModelProto.decode(readFileSync(graphFile)).graph?.initializer ?? [];
  } catch {
    return null;
  }
  const needed = new Map<string, { end: number; tensor: string }>();
  for (const t of inits) {
    const field = (k: string) => t.externalData?.find((e) => e.key === k)?.value ?? undefined;
    const location = field('location');
    if (t.dataLocation !== 1 || !location) continue;
    const end = Number(field('offset') ?? 0) + Number(field('length') ?? 0);
    if (end > (needed.get(location)?.end ?? -1)) needed.set(location, { end, tensor: t.name ?? '?' });
  }
  for (const [location, { end, tensor }] of needed) {
    const path = join(dirname(graphFile), location);
    if (!existsSync(path)) return `${path}: missing (${graphFile} reads its weights from it)`;
    const size = statSync(path).size;
    if (size < end)
      return `${path}: ${size} bytes, but ${graphFile} reads ${end} bytes from it (tensor ${tensor}); the file is truncated or from another export`;
  }
  return null;
}

/** A style that reads the word head and feeds no entities: the words graph's passes. */
export function isWordOnly(style: { head: string; entityInputs: boolean }): boolean {
  return style.head === 'word' && !style.entityInputs;
}

/**
 * The words graph, when the checkpoint has one (LUKE exports) and some style is word-only: the scorer runs those
 * passes there (ScorerOptions.words). Otherwise undefined.
 */
export async function openWordsSession(
  ck: Checkpoint,
  styles: readonly { head: string; entityInputs: boolean }[],
  o: SessionOptions = {},
): Promise<ModelSession | undefined> {
  if (!ck.manifest.graphs.words || !styles.some(isWordOnly)) return undefined;
  return openSession(ck, 'words', o);
}

/** The sessions `styles` are scored with: `gathered` for `scoreQueries`, `words` for its ScorerOptions.words. */
export interface ScoringSessions {
  gathered: ModelSession;
  words?: ModelSession;
  release(): Promise<void>;
}

/**
 * Opens what scoring `styles` needs: the words graph for word-only styles when the export has one, and the gathered
 * graph for the others. When every style is word-only the gathered graph would never run, so it is not opened (its
 * session would pre-pack the encoder's weights a second time) and `gathered` is the words session.
 */
export async function openScoringSessions(
  ck: Checkpoint,
  styles: readonly { head: string; entityInputs: boolean }[],
  o: SessionOptions = {},
): Promise<ScoringSessions> {
  const words = await openWordsSession(ck, styles, o);
  let gathered: ModelSession;
  try {
    gathered = words && styles.every(isWordOnly) ? words : await openSession(ck, 'gathered', o);
  } catch (e) {
    await words?.release();
    throw e;
  }
  return {
    gathered,
    words,
    release: async () => {
      await gathered.release();
      if (words && words !== gathered) await words.release();
    },
  };
}

export { ort };
