import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkoutRoot, exporterPython } from '../src/cli/commands/export.js';
import { FAMILIES } from '../src/model/families/index.js';
import { tempDir } from './support/cli.js';

// What `mlama export` needs before any model is loaded, without the Python environment: the family table the
// exporter keeps is the TypeScript registry, the checkout and its interpreter are found from the package (or
// MLAMA_PYTHON) and a missing one says how to make it, and a Python without onnx is sent to the right one.
const ROOT = join(import.meta.dirname, '..');

test('the family table of the exporter is the TypeScript registry', () => {
  const r = spawnSync('python3', [join(ROOT, 'tools/export_mluke.py'), '--families-json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const want = Object.fromEntries(
    Object.values(FAMILIES).map((f) => [f.name, { modelTypes: [...f.modelTypes], heads: [...f.heads], inputGroups: [...f.inputGroups] }]),
  );
  assert.deepEqual(JSON.parse(r.stdout), want);
});

test('the checkout is found from the module, and a missing Python environment says how to make it', () => {
  assert.equal(checkoutRoot(), ROOT);
  assert.equal(checkoutRoot(join(ROOT, 'dist', 'src', 'cli', 'commands')), ROOT);
  const bare = tempDir('mlama-bare-');
  // the checkout's environment under the root is what the message names
  assert.throws(() => exporterPython(bare, {}), {
    message: new RegExp(
      `^${bare}\\/\\.venv\\/bin\\/python: missing; the exporter needs the checkout's Python environment: run \`make python-env\` in ${bare}$`,
    ),
  });
  assert.throws(() => exporterPython(bare, { MLAMA_PYTHON: join(bare, 'nope') }), { message: `MLAMA_PYTHON=${join(bare, 'nope')}: no such interpreter` });
  assert.equal(exporterPython(bare, { MLAMA_PYTHON: process.execPath }), process.execPath);
});

test("the exporter run by a Python without onnx points to the checkout's Python environment and mlama export", () => {
  // -S leaves out site-packages: a python3 with the standard library only, as a system python without onnx.
  const r = spawnSync('python3', ['-S', join(ROOT, 'tools/export_mluke.py'), 'src', 'out'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(
    r.stderr,
    /^error: \S+ is not installed for .*: run the exporter as `mlama export SRC OUT`, or with the checkout's \.venv\/bin\/python tools\/export_mluke\.py \(make python-env creates \.venv\)\n$/,
  );
});
