// One writer of the store stress test: for each round, waits for the go signal (a file), then creates or opens
// that round's new results file at the same moment as its siblings, stores one run with a few batches, and
// reports "done R" or "fail R <message>" on stdout.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createRun, openStore, resultWriter, setStatus, type ResultRow } from '../../src/store/db.js';
import { answerRow } from './answer.js';

const [dir, who, rounds] = process.argv.slice(2);
const sleep = new Int32Array(new SharedArrayBuffer(4));
const row = (i: number): ResultRow =>
  answerRow({ subject: `subject ${i}`, lineids: [i], top: [{ label: 'Paris', score: -1.5 }], gold_score: -1.5, candidates: 10 });

process.stdout.write('ready\n');
for (let r = 0; r < Number(rounds); r++) {
  while (!existsSync(join(dir, `go-${r}`))) Atomics.wait(sleep, 0, 0, 1);
  try {
    const s = openStore(join(dir, `round-${r}.sqlite`), { busyTimeoutMs: 60000 });
    try {
      const run = createRun(s, {
        name: `writer-${who}`,
        started_at: new Date().toISOString(),
        options: {},
        harness_version: 'stress',
        checkpoint: {},
        dataset: {},
        random_weights: true,
        planned: 40,
      });
      const write = resultWriter(s, run.id);
      for (let b = 0; b < 4; b++) write(Array.from({ length: 10 }, (_, i) => row(b * 10 + i)));
      setStatus(s, run.id, 'complete');
    } finally {
      s.db.close();
    }
    process.stdout.write(`done ${r}\n`);
  } catch (e) {
    process.stdout.write(`fail ${r} ${(e as Error).message.split('\n')[0]}\n`);
  }
}
