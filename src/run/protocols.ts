import { fail } from '../errors.js';
import type { Tokenization } from '../prompts/spans.js';

/**
 * Evaluation protocols as named presets, declared once: each is every choice that moves the numbers of a public
 * implementation, bundled under one name (`mlama run --protocol NAME`). A run stores its protocol, and runs under
 * two protocols are not comparable (config.ts: identity 'comparable'). docs/PROTOCOLS.md counts each choice's
 * effect on the bundled sample.
 */
export interface Protocol {
  name: ProtocolName;
  summary: string;
  /** How template pieces, the subject and candidates are tokenized (prompts/spans.ts, prompts/build.ts). */
  tokenization: Tokenization;
  /**
   * What one question is. 'template-subject': one per (relation, template, subject) holding its gold set.
   * 'question-string': keyed by the filled template text across relations, one entry per triple appended to it,
   * the last triple's gold the only answer. 'triple': one per triple, the subject's other golds competing.
   */
  queryUnit: 'template-subject' | 'question-string' | 'triple';
  /** Entity lookup of a label: `<lang>:<title>` in the query's language (the harness's --fallback adds to it). */
  entityLookup: 'lang-title';
  /** The styles a run asks when --styles is not given: the entity style ranks by the entity or the word score. */
  styles: readonly string[];
  /** How P@k is averaged (report/protocolMetrics.ts). */
  averaging: 'per-query' | 'micro-questions' | 'relation-then-language';
  ks: readonly number[];
  /** Relations left out of the average: those whose name contains one of these. */
  skipRelations: readonly string[];
  /** Candidates kept per stored answer: the question-string metric needs the scores down to rank 100. */
  topK: number;
}

export const PROTOCOL_NAMES = ['paper', 'authors-script', 'mlama'] as const;
export type ProtocolName = (typeof PROTOCOL_NAMES)[number];

export const PROTOCOLS: Record<ProtocolName, Protocol> = {
  paper: {
    name: 'paper',
    summary: "the mLUKE paper's protocol as the harness reads it (the default): in-context tokenization, one query per template and subject with its gold set",
    tokenization: 'in-context',
    queryUnit: 'template-subject',
    entityLookup: 'lang-title',
    styles: ['word', 'entity'],
    averaging: 'per-query',
    ks: [1, 5, 10],
    skipRelations: [],
    topK: 10,
  },
  'authors-script': {
    name: 'authors-script',
    summary:
      "studio-ousia/luke add_mlama examples/mlama/evaluate.py as it runs with transformers' MLukeTokenizer: every piece tokenized alone, entity mode ranked by the word score, P@k micro over question strings",
    tokenization: 'pieces-alone',
    queryUnit: 'question-string',
    entityLookup: 'lang-title',
    styles: ['word', 'entity-word'],
    averaging: 'micro-questions',
    ks: [1, 5, 10, 100],
    skipRelations: [],
    topK: 100,
  },
  mlama: {
    name: 'mlama',
    summary:
      "mLAMA's original evaluation (norakassner/mlama): one query per triple, candidates tokenized alone, P@1 per relation then per language, date relations skipped",
    tokenization: 'candidates-alone',
    queryUnit: 'triple',
    entityLookup: 'lang-title',
    styles: ['word'],
    averaging: 'relation-then-language',
    ks: [1],
    skipRelations: ['date'],
    topK: 10,
  },
};

export function protocolName(text: string): ProtocolName {
  if (!(PROTOCOL_NAMES as readonly string[]).includes(text)) fail(`--protocol must be ${PROTOCOL_NAMES.join(', ')}, got "${text}"`);
  return text as ProtocolName;
}

/** A run's protocol: absent (a run stored before protocols existed) is the paper's, as it ran. */
export function protocolOf(name: string | null | undefined): Protocol {
  return PROTOCOLS[protocolName(name ?? 'paper')];
}
