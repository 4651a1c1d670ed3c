import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { generateCheckpoint } from '../../src/checkpoint-gen/generate.js';
import { tempDir, SHARED_DATA } from './cli.js';

const made = new Map<string, string>();

/** A tiny checkpoint whose entity vocabulary covers the shared data, generated once per test process. */
export function tinyCheckpoint(seed = 1, entityAware = false, data = SHARED_DATA): string {
  const key = `${seed}|${entityAware}|${data}`;
  let dir = made.get(key);
  if (!dir) {
    dir = join(tempDir('mlama-ck-'), 'tiny');
    generateCheckpoint({ preset: 'tiny', out: dir, seed, data, entityAware });
    made.set(key, dir);
  }
  return dir;
}

/** Overwrites one weight of a checkpoint in place with a value (NaN, Infinity...), found through the graph's external-data offset. */
export function poisonWeight(dir: string, name: string, value: number): void {
  const { onnx } = onnxProto;
  const model = onnx.ModelProto.decode(readFileSync(join(dir, 'model.onnx')));
  const init = model.graph!.initializer!.find((t) => t.name === name);
  if (!init) throw new Error(`no initializer ${name}`);
  const field = (k: string) => Number(init.externalData!.find((e) => e.key === k)!.value);
  const bytes = new Float32Array(field('length') / 4).fill(value);
  const fd = openSync(join(dir, 'weights.bin'), 'r+');
  try {
    writeSync(fd, new Uint8Array(bytes.buffer), 0, bytes.byteLength, field('offset'));
  } finally {
    closeSync(fd);
  }
}
