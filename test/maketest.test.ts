import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from './support/cli.js';

// `make test`'s runner (make run-tests): progress as tests finish, each failure with its reason on stdout, a
// non-zero exit on failure, and "no tests ran" when the runner found nothing.

const ROOT = join(import.meta.dirname, '..');

function runTests(tests: string, tap: string) {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT; // this file runs under the test runner; the nested one must report on its own
  return spawnSync('make', ['-s', '--no-print-directory', 'run-tests', `TESTS=${tests}`, `TAP=${tap}`], { cwd: ROOT, env, encoding: 'utf8' });
}

test('each test is shown as it finishes, and a failure is printed with its reason; exit non-zero', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'one.test.ts'), "import { test } from 'node:test';\ntest('first file passes', () => {});\n");
  writeFileSync(
    join(dir, 'two.test.ts'),
    "import { test } from 'node:test';\nimport assert from 'node:assert/strict';\ntest('second file fails', () => assert.equal(1, 2, 'the reason R-42'));\n",
  );
  const r = runTests(join(dir, '*.test.ts'), join(dir, 'out.tap'));
  assert.notEqual(r.status, 0);
  assert.match(r.stdout, /first file passes/);
  assert.match(r.stdout, /second file fails/);
  assert.match(r.stdout, /the reason R-42/);
  assert.match(r.stdout, /2 tests, 1 failed/);
});

test('all passing: exit 0; nothing found: "no tests ran" and exit non-zero', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'ok.test.ts'), "import { test } from 'node:test';\ntest('fine', () => {});\n");
  const ok = runTests(join(dir, '*.test.ts'), join(dir, 'ok.tap'));
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /✔ fine/);
  const none = runTests(join(dir, 'missing-*.test.ts'), join(dir, 'ok.tap'));
  assert.notEqual(none.status, 0);
  assert.match(none.stdout, /no tests ran/);
});
