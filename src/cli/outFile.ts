import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fail } from '../errors.js';
import { sameFile } from '../paths.js';

/** A results database and the files SQLite keeps beside it: writing over any of them destroys stored runs. */
const DB_FILES = ['', '-wal', '-shm', '-journal'];

const code = (e: unknown) => (e as NodeJS.ErrnoException).code ?? (e as Error).message;

/** Refuses an --out that names the results database a command reads (by path, link or the same inode). */
export function refuseOutOverDb(out: string, db: string): void {
  const hit = DB_FILES.find((side) => sameFile(out, db + side));
  if (hit !== undefined) fail(`--out ${out} is the results database ${db + hit}; writing there would destroy the stored runs`);
}

export interface OutFile {
  write(text: string): void;
  /** Puts the finished file in place of `out`. */
  commit(): void;
  /** Drops what was written; `out` is left as it was. */
  abort(): void;
}

/**
 * An output file written whole or not at all: text goes to a hidden file beside `out` that replaces it only on
 * commit, so an export that fails halfway leaves no partial file and an older file at `out` stays intact.
 */
export function openOutFile(out: string, what: string): OutFile {
  const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.part`);
  let fd: number;
  try {
    fd = openSync(tmp, 'w');
  } catch (e) {
    fail(`${out}: cannot write ${what} (${code(e)}${code(e) === 'ENOENT' ? `: no directory ${dirname(out)}` : ''})`);
  }
  let open = true;
  const close = () => {
    if (open) closeSync(fd);
    open = false;
  };
  return {
    write(text) {
      try {
        writeSync(fd, text);
      } catch (e) {
        this.abort();
        fail(`${out}: cannot write ${what} (${code(e)})`);
      }
    },
    commit() {
      close();
      try {
        renameSync(tmp, out);
      } catch (e) {
        rmSync(tmp, { force: true });
        fail(`${out}: cannot write ${what} (${code(e)})`);
      }
    },
    abort() {
      close();
      rmSync(tmp, { force: true });
    },
  };
}
