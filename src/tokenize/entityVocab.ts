import { readFileSync, statSync } from 'node:fs';
import { fail } from '../errors.js';
import { readJsonl } from '../data/jsonl.js';

export const SPECIAL_ENTITIES = ['[PAD]', '[UNK]', '[MASK]', '[MASK2]'] as const;

/**
 * mLUKE's entity vocabulary, `"<lang>:<title>"` -> id (several languages' titles share an id), held as a compact
 * index: only the keys a caller wants (the labels of the data being evaluated) are kept, so the hub's 439 MB file
 * never becomes a 12-million-key object.
 */
export interface EntityVocab {
  file: string;
  /** max id + 1 over the whole file, kept or not. */
  size: number;
  /** Number of keys in the file. */
  keys: number;
  special: { pad?: number; unk?: number; mask?: number; mask2?: number };
  get(key: string): number | undefined;
}

export type KeyFilter = (key: string) => boolean;

/** Reads entity_vocab.json (object) or LUKE's jsonl form ({"id", "entities": [[title, lang], ...]} a line). */
export function loadEntityVocab(file: string, keep: KeyFilter = () => true): EntityVocab {
  try {
    statSync(file);
  } catch {
    fail(`${file}: entity vocabulary not found`);
  }
  const map = new Map<string, number>();
  let maxId = -1;
  let keys = 0;
  // Which ids ordinary keys hold, a byte per id (1.2 MB for mLUKE), so that a special entity on one is found.
  let ordinary = new Uint8Array(1024);
  const add = (key: string, id: number, where: string) => {
    if (!Number.isInteger(id) || id < 0) fail(`${where}: entity id for ${JSON.stringify(key)} must be a non-negative integer`);
    keys += 1;
    if (id > maxId) maxId = id;
    if (isSpecial(key) || keep(key)) map.set(key, id);
    if (!isSpecial(key) && id < 2 ** 26) {
      if (id >= ordinary.length) {
        const grown = new Uint8Array(Math.max(id + 1, ordinary.length * 2));
        grown.set(ordinary);
        ordinary = grown;
      }
      ordinary[id] = 1;
    }
  };
  if (file.endsWith('.jsonl')) {
    for (const { line, value } of readJsonl(file)) {
      const where = `${file}:${line}`;
      const entities = value.entities;
      if (!Array.isArray(entities)) fail(`${where}: field "entities" missing or not a list`);
      for (const e of entities) {
        if (!Array.isArray(e) || typeof e[0] !== 'string') fail(`${where}: field "entities" must hold [title, language] pairs`);
        add(e[1] ? `${e[1]}:${e[0]}` : e[0], value.id as number, where);
      }
    }
  } else {
    scanFlatObject(readFileSync(file), file, (k, v) => add(k, v, `${file}: key`));
  }
  // A special entity's id must be its own: [MASK] on [PAD]'s or an entity's id would score the wrong embedding.
  const specialAt = new Map<number, string>();
  for (const k of SPECIAL_ENTITIES) {
    const id = map.get(k);
    if (id === undefined) continue;
    if (specialAt.has(id)) fail(`${file}: ${k} has id ${id}, which ${specialAt.get(id)} also has; a special entity needs its own id`);
    if (ordinary[id]) fail(`${file}: ${k} has id ${id}, which an ordinary entity also has; a special entity needs its own id`);
    specialAt.set(id, k);
  }
  return {
    file,
    size: maxId + 1,
    keys,
    special: { pad: map.get('[PAD]'), unk: map.get('[UNK]'), mask: map.get('[MASK]'), mask2: map.get('[MASK2]') },
    get: (key) => map.get(key),
  };
}

function isSpecial(key: string): boolean {
  return (SPECIAL_ENTITIES as readonly string[]).includes(key);
}

/**
 * A scanner for one flat JSON object of string keys and integer values, over bytes: no intermediate string of
 * the whole file and no object with millions of properties. Keys with escapes go through JSON.parse.
 */
function scanFlatObject(buf: Buffer, file: string, onEntry: (key: string, value: number) => void): void {
  const n = buf.length;
  let i = 0;
  const skipWs = () => {
    while (i < n && (buf[i] === 0x20 || buf[i] === 0x0a || buf[i] === 0x0d || buf[i] === 0x09)) i++;
  };
  const bad = (what: string): never => fail(`${file}: malformed entity vocabulary at byte ${i}: ${what}`);
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) fail(`${file}: starts with a UTF-8 byte-order mark (BOM); save the file as UTF-8 without BOM`);
  skipWs();
  if (buf[i] !== 0x7b) bad('expected "{"');
  i++;
  skipWs();
  if (buf[i] === 0x7d) return;
  for (;;) {
    skipWs();
    if (buf[i] !== 0x22) bad('expected a string key');
    const start = i;
    let escaped = false;
    i++;
    while (i < n && buf[i] !== 0x22) {
      if (buf[i] === 0x5c) {
        escaped = true;
        i++;
      }
      i++;
    }
    if (i >= n) bad('unterminated string');
    let key: string;
    try {
      key = escaped ? (JSON.parse(buf.toString('utf8', start, i + 1)) as string) : buf.toString('utf8', start + 1, i);
    } catch {
      i = start;
      key = bad(`bad escape in a key (${buf.toString('utf8', start, Math.min(start + 40, n))}...)`);
    }
    i++;
    skipWs();
    if (buf[i] !== 0x3a) bad('expected ":"');
    i++;
    skipWs();
    let value = 0;
    const digits = i;
    while (i < n && buf[i] >= 0x30 && buf[i] <= 0x39) value = value * 10 + (buf[i++] - 0x30);
    if (i === digits) bad(`expected an integer id for ${JSON.stringify(key)}`);
    onEntry(key, value);
    skipWs();
    if (buf[i] === 0x2c) {
      i++;
      continue;
    }
    if (buf[i] === 0x7d) break;
    bad('expected "," or "}"');
  }
  i++;
  skipWs();
  if (i < n) bad('trailing data after the object');
}

/** Writes the hub's entity_vocab.json form. */
export function entityVocabJson(entries: Iterable<[string, number]>): string {
  const parts: string[] = [];
  for (const [k, v] of entries) parts.push(`${JSON.stringify(k)}:${v}`);
  return `{${parts.join(',')}}\n`;
}
