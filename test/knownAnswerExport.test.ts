import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadCheckpoint } from '../src/model/checkpoint.js';
import { CONTRACT } from '../src/model/contract.js';

// The committed known-answer checkpoint (datasets/known-answer) is what `make known-answer` writes today: its
// manifest records the graphs version of the exporter that wrote it, and the exporter's current one must be the
// same (a change to the graphs bumps GRAPHS_VERSION in tools/export_mluke.py, and this test then asks for a rebuild),
// with the graphs the exporter's contract gives the luke family, every one of them present.
const ROOT = join(import.meta.dirname, '..');
const KNOWN = join(ROOT, 'datasets', 'known-answer');

test('the committed known-answer export is the current exporter’s: same graphs version, graphs and family', () => {
  const manifest = JSON.parse(readFileSync(join(KNOWN, CONTRACT.manifest), 'utf8'));
  const source = readFileSync(join(ROOT, 'tools', 'export_mluke.py'), 'utf8');
  const version = Number(/^GRAPHS_VERSION = (\d+)$/m.exec(source)?.[1]);
  assert.ok(version > 0, 'tools/export_mluke.py declares GRAPHS_VERSION');
  assert.equal(
    manifest.origin.graphs_version,
    version,
    `datasets/known-answer was exported with graphs version ${manifest.origin.graphs_version}, the exporter writes ${version}: run make known-answer and commit it`,
  );
  assert.equal(manifest.family, 'luke');
  const r = spawnSync(
    'python3',
    [
      '-c',
      `import importlib.util, json; s=importlib.util.spec_from_file_location('e','tools/export_mluke.py'); e=importlib.util.module_from_spec(s); s.loader.exec_module(e)
print(json.dumps(e.graph_spec(e.load_contract(), 'luke')))`,
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(manifest.graphs, JSON.parse(r.stdout));
  for (const g of Object.values(manifest.graphs) as { file: string }[]) assert.ok(existsSync(join(KNOWN, g.file)), g.file);
  const ck = loadCheckpoint(KNOWN);
  assert.equal(ck.family.name, 'luke');
  assert.equal(ck.manifest.graphs.words?.file, 'model.words.onnx', 'word-only prompts run on the words graph');
});
