import { closeSync, existsSync, lstatSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fail } from '../errors.js';
import { canonicalPath, sameFile } from '../paths.js';
import { storeFiles } from '../store/db.js';

const code = (e: unknown) => (e as NodeJS.ErrnoException).code ?? (e as Error).message;

/**
 * Refuses an --out that names the results database a command reads, or a file SQLite keeps beside it (by path,
 * link or the same inode): writing over any of them destroys stored runs. A database opened through a link has
 * its -wal, -shm and -journal beside the file the link resolves to, so those are refused too.
 */
export function refuseOutOverDb(out: string, db: string): void {
  const hit = [...new Set([...storeFiles(db), ...storeFiles(canonicalPath(db))])].find((f) => sameFile(out, f));
  if (hit !== undefined) fail(`--out ${out} is the results database ${hit}; writing there would destroy the stored runs`);
}

export interface OutFile {
  write(text: string): void;
  /** Puts the finished file in place of `out`. */
  commit(): void;
  /** Drops what was written; `out` is left as it was. */
  abort(): void;
}

/**
 * Whether `out` may be replaced by rename: missing, or a plain file with one name. A pipe, a device
 * (`/dev/stdout`, `>(gzip > a.gz)`), a symlink or a hard-linked file is written in place as before, since a
 * rename would replace the link or the pipe instead of writing through it.
 */
function replaceable(out: string): boolean {
  try {
    const st = lstatSync(out);
    return st.isFile() && st.nlink === 1;
  } catch {
    return true;
  }
}

function cannotWrite(out: string, what: string, e: unknown): never {
  const missingDir = code(e) === 'ENOENT' && !existsSync(dirname(out));
  fail(`${out}: cannot write ${what} (${code(e)}${missingDir ? `: no directory ${dirname(out)}` : ''})`);
}

/**
 * An output file written whole or not at all: text goes to a hidden file beside `out` that replaces it only on
 * commit, so an export that fails halfway leaves no partial file and an older file at `out` stays intact. Where
 * `out` cannot be replaced (see replaceable) it is written in place.
 */
export function openOutFile(out: string, what: string): OutFile {
  const tmp = replaceable(out) ? join(dirname(out), `.${basename(out)}.${process.pid}.part`) : null;
  let fd: number;
  try {
    fd = openSync(tmp ?? out, 'w');
  } catch (e) {
    cannotWrite(out, what, e);
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
        cannotWrite(out, what, e);
      }
    },
    commit() {
      close();
      if (tmp === null) return;
      try {
        renameSync(tmp, out);
      } catch (e) {
        rmSync(tmp, { force: true });
        cannotWrite(out, what, e);
      }
    },
    abort() {
      close();
      if (tmp !== null) rmSync(tmp, { force: true });
    },
  };
}
