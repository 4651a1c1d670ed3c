import { fail } from '../errors.js';
import { readJsonl, stringField } from './jsonl.js';
import { listRelations, readTriples, type Dataset } from './mlama.js';

/** One line of a checkpoint's training-facts.jsonl: a fact the model was trained on, in one language. */
export interface TrainingFact {
  language: string;
  relation: string;
  subUri: string;
  objUri: string;
}

export function readTrainingFacts(file: string): TrainingFact[] {
  const out: TrainingFact[] = [];
  for (const { line, value } of readJsonl(file)) {
    out.push({
      language: stringField(file, line, value, 'language'),
      relation: stringField(file, line, value, 'relation'),
      subUri: stringField(file, line, value, 'sub_uri'),
      objUri: stringField(file, line, value, 'obj_uri'),
    });
  }
  if (out.length === 0) fail(`${file}: no training facts`);
  return out;
}

/**
 * (language, relation, lineid) -> sub_uri over the given languages of a dataset: how stored answers find their facts.
 * A line without a subject id (GoogleRE) is null: its answers lead to no fact, and the report counts them apart
 * from those whose lines the data does not hold (undefined).
 */
export function lineSubjects(ds: Dataset, languages: string[]): (language: string, relation: string, lineid: number) => string | null | undefined {
  const map = new Map<string, string | null>();
  for (const lang of languages)
    for (const rel of listRelations(ds, lang)) for (const t of readTriples(ds, lang, rel)) map.set(`${lang}\u0000${rel}\u0000${t.lineid}`, t.subUri ?? null);
  return (language, relation, lineid) => map.get(`${language}\u0000${relation}\u0000${lineid}`);
}
