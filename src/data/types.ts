/** Plain records passed from the mLAMA reader to the prompt builder. */

export interface Triple {
  /** Wikidata ids; GoogleRE lines may carry labels only. */
  subUri?: string;
  objUri?: string;
  subLabel: string;
  objLabel: string;
  lineid: number;
}

export interface Template {
  relation: string;
  text: string;
  /** Where it was read, for messages. */
  source: string;
  /** Templates such as ja P103 "[Y]は[X]の母語です" put the object first. */
  yBeforeX: boolean;
}

export interface Candidate {
  label: string;
  /** Wikidata id when the language's triples name one for this label. */
  uri?: string;
  /** How often the candidate file lists the label, when more than once (GoogleRE's files repeat objects); it is
   * ranked once, and the authors' script's ranks count every copy (report/protocolMetrics.ts). */
  copies?: number;
}

/** One cloze question: a subject under one template, with every gold object of that subject. */
export interface Query {
  key: string;
  language: string;
  relation: string;
  template: string;
  subject: string;
  /** Absent where the triples name no id (GoogleRE): analyses that join on ids leave such a query out. */
  subjectUri?: string;
  golds: Candidate[];
  lineids: number[];
}

/** Everything needed to score one relation in one language under one template. */
export interface RelationSet {
  language: string;
  relation: string;
  template: Template;
  candidates: Candidate[];
  /** Gold objects that were missing from the candidate file and were added so they can be ranked. */
  goldAdded: number;
  triples: number;
  /** Which candidate folder the set came from: TREx_multilingual_objects or GoogleRE_objects. */
  source?: RelationSource;
  /** Triples lacking a subject or object Wikidata id (GoogleRE lines may carry labels only). */
  withoutIds?: number;
  queries: Query[];
}

export type RelationSource = 'TREx' | 'GoogleRE';
