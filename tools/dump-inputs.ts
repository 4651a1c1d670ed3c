/**
 * Dumps the model inputs the harness builds, as JSON, for checking against transformers' tokenizers
 * (tools/parity/parity.py). One entry per (query, style): every pass's input ids, attention mask, entity ids and
 * entity position ids as the scorer feeds them, the mask positions and the candidates it ranks; candidate
 * labels, token ids and entity ids once per (language, relation, template).
 *
 *   tsx tools/dump-inputs.ts --model DIR --data DIR --styles word,entity [--languages a,b] [--limit N]
 *        [--tokenization in-context|spans] [--no-fallback] --out FILE
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { HarnessError, runTool } from '../src/errors.js';
import { openDataset, resolveLanguages } from '../src/data/mlama.js';
import { readLabelIndex } from '../src/data/labels.js';
import { keysForLabels } from '../src/tokenize/entityLinker.js';
import { loadCheckpoint } from '../src/model/checkpoint.js';
import { loadStyle } from '../src/prompts/styles.js';
import { languageQueries } from '../src/prompts/source.js';
import type { Tokenization } from '../src/prompts/spans.js';

function main(): void {
  const { values: o } = parseArgs({
    options: {
      model: { type: 'string' },
      data: { type: 'string' },
      styles: { type: 'string', default: 'word' },
      languages: { type: 'string' },
      limit: { type: 'string' },
      tokenization: { type: 'string', default: 'in-context' },
      'no-fallback': { type: 'boolean', default: false },
      out: { type: 'string' },
    },
  });
  if (!o.model || !o.data || !o.out)
    throw new HarnessError(
      'usage: dump-inputs --model DIR --data DIR --out FILE [--styles] [--languages] [--limit] [--tokenization in-context|spans] [--no-fallback]',
      2,
    );
  if (o.tokenization !== 'in-context' && o.tokenization !== 'spans')
    throw new HarnessError(`--tokenization must be in-context or spans, not ${JSON.stringify(o.tokenization)}`, 2);
  const limit = o.limit === undefined ? undefined : Number(o.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new HarnessError('--limit must be a positive integer', 2);
  const ds = openDataset(o.data);
  const languages = resolveLanguages(ds, o.languages?.split(','));
  const labels = readLabelIndex(ds);
  const ck = loadCheckpoint(o.model, { entityKeys: keysForLabels(labels.labels) });
  const styles = o.styles.split(',').map(loadStyle);
  const sel = { limit, fallback: !o['no-fallback'], tokenization: o.tokenization as Tokenization };
  const prompts: unknown[] = [];
  const relations: Record<string, unknown> = {};
  for (const lang of languages) {
    for (const b of languageQueries(ds, lang, ck.tokenizer, ck.entityVocab, labels, styles, sel)) {
      const q = b.query;
      const rel = `${q.language}|${q.relation}|${q.template}`;
      const c = b.relation.candidates;
      relations[rel] ??= { labels: c.labels, tokens: c.tokens, entity_ids: c.entities.map((e) => e.id) };
      prompts.push({
        language: q.language,
        relation: q.relation,
        template: q.template,
        subject: q.subject,
        style: b.style.name,
        head: b.style.head,
        relation_key: rel,
        golds: b.golds,
        subject_entity: b.subjectEntity ? { id: b.subjectEntity.id, via: b.subjectEntity.via } : null,
        passes: b.passes.map((p) => ({
          input_ids: p.inputIds,
          // The scorer buckets passes by length, so its attention mask is all ones.
          attention_mask: p.inputIds.map(() => 1),
          entity_ids: p.entityIds,
          entity_position_ids: p.entityPositions,
          mask_positions: p.maskPositions,
          candidates: p.candidates,
        })),
      });
    }
  }
  writeFileSync(o.out, JSON.stringify({ model: o.model, tokenization: sel.tokenization, fallback: sel.fallback, prompts, relations }));
}

runTool(main);
