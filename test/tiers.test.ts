import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

// The fast tier (make test-fast) is every test file without a first-line `// tier: full (needs ...)` marker. A file
// that reaches for ../shared, Python, Chromium or Slurm without the marker would fail or skip there; one marked
// full that needs none of them would be left out of the fast tier for nothing.
const DIR = import.meta.dirname;
const MARKER = /^\/\/ tier: full \(needs (.+)\)$/;
const NEEDS: Record<string, RegExp> = {
  '../shared': /SHARED_DATA|\.\.\/shared|tinyCheckpoint\((\s*\d+\s*(,\s*\w+\s*)?)?\)/,
  Python: /\.venv['/]|\bPYTHON\b|\/usr\/bin\/python/,
  Chromium: /chromium|playwright/,
  Slurm: /support\/slurm\.js|slurmctld|MLAMA_REQUIRE_SLURM/,
};

const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.test.ts') && f !== 'tiers.test.ts')
  .map((f) => ({ name: f, text: readFileSync(join(DIR, f), 'utf8') }));

/** What a file reaches for: the names of NEEDS whose pattern its code (past the marker line, comments left out) matches. */
function needs(text: string): string[] {
  const code = text
    .split('\n')
    .slice(1)
    .filter((l) => !/^\s*(\/\/|\/?\*)/.test(l))
    .join('\n');
  return Object.keys(NEEDS).filter((k) => NEEDS[k].test(code));
}

test('a test file that needs ../shared, Python, Chromium or Slurm says so on its first line', () => {
  const unmarked = files.filter((f) => !MARKER.test(f.text.split('\n')[0]));
  const wrong = unmarked.map((f) => [f.name, needs(f.text)] as const).filter(([, n]) => n.length);
  assert.deepEqual(wrong, []);
});

test('a file marked full names what it needs, and needs it', () => {
  for (const f of files) {
    const m = MARKER.exec(f.text.split('\n')[0]);
    if (!m) continue;
    const named = m[1].split(/,\s*|\s+and\s+/);
    for (const n of named) assert.ok(n in NEEDS, `${f.name}: "${n}" is not one of ${Object.keys(NEEDS).join(', ')}`);
    assert.deepEqual([...named].sort(), needs(f.text).sort(), f.name);
  }
});

test('the patterns catch what they are for', () => {
  assert.deepEqual(needs('x\nconst ck = tinyCheckpoint();\nopenDataset(SHARED_DATA);'), ['../shared']);
  assert.deepEqual(needs('x\ntinyCheckpoint(2, true)'), ['../shared']);
  assert.deepEqual(needs('x\ntinyCheckpoint(1, false, SAMPLE_DATA)'), []);
  assert.deepEqual(needs("x\nconst PYTHON = join(ROOT, '.venv/bin/python');"), ['Python']);
  assert.deepEqual(needs("x\nexistsSync('/usr/bin/chromium')"), ['Chromium']);
  assert.deepEqual(needs('x\n// no ../shared, no Python here'), []);
  assert.deepEqual(needs("x\nimport { cluster } from './support/slurm.js';"), ['Slurm']);
});
