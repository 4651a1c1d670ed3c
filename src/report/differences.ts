import { runDifferences } from '../run/config.js';

/** A run of a multi-run report as its inputs were stored: enough to tell whether two runs asked the same questions. */
export interface StoredInputs {
  name: string;
  options: Record<string, unknown>;
  checkpoint: Record<string, string>;
  dataset: Record<string, string>;
}

/** How one run of a table differs from the table's first run in what it answered. */
export interface RunDifference {
  run: string;
  reference: string;
  differences: string[];
}

const only = (x: Record<string, string>, keys: Set<string>) => Object.fromEntries(Object.entries(x).filter(([k]) => keys.has(k)));

/**
 * Each run against the first, by the options that make runs comparable (RUN_OPTIONS, as `compare` reads them)
 * and the data fingerprints of the languages both read. Styles are left out (a table sets styles side by side by
 * design), and so are checkpoints (setting models side by side is the table's purpose).
 */
export function tableDifferences(runs: StoredInputs[]): RunDifference[] {
  const [first, ...rest] = runs;
  if (!first) return [];
  return rest.flatMap((r) => {
    const both = new Set(Object.keys(first.dataset ?? {}).filter((k) => Object.hasOwn(r.dataset ?? {}, k)));
    const at = (x: StoredInputs) => ({ options: { ...x.options, styles: null }, checkpoint: x.checkpoint, dataset: only(x.dataset ?? {}, both) });
    const differences = runDifferences('compare', at(r), at(first));
    return differences.length ? [{ run: r.name, reference: first.name, differences }] : [];
  });
}

/** One sentence per differing run, for the notes of every format. */
export function differenceNotes(ds: RunDifference[]): string[] {
  return ds.map(
    (d) => `runs "${d.run}" and "${d.reference}" answered different questions (${d.differences.join('; ')}): their columns are not comparable as they stand.`,
  );
}
