// The comparison of mLAMA's original ranked evaluation with the harness's `--protocol mlama` answers: pure functions
// over plain data (tools/protocols/mlama-original.ts runs both sides; test/mlama-original-compare.test.ts checks these).
import type { MlamaPrecision } from '../../src/report/protocolMetrics.js';
import type { ResultRow } from '../../src/store/db.js';
import { NEAR_TIE } from './authorsCompare.js';

/** One triple as their result.pkl holds it (tools/protocols/mlama_original.py: triple_records). */
export interface TheirTriple {
  language: string;
  relation: string;
  lineid: number;
  subject: string;
  gold: string;
  top1: string;
  top1Score: number;
  secondScore: number | null;
  rank: number;
}

/** What the Python runner writes (theirs.json). */
export interface TheirRun {
  commit: string;
  standIns: string[];
  triples: TheirTriple[];
  /** P@1 per language and relation as eval.py computes it (the share of triples ranked 0). */
  relations: Record<string, Record<string, number | null>>;
  /** eval.py's CSV: per language the mean over relations (date skipped); null when it could not run. */
  printed: Record<string, { triples: number; p1: number }> | null;
  /** Per `lang/relation`, each candidate's ids as their get_id gives them. */
  candidateIds: Record<string, Record<string, number[]>>;
  /** Per `lang/relation/subject`, the ids of the sentence with one [MASK] as their connector builds it. */
  sentenceIds: Record<string, number[]>;
}

export interface OurAnswer {
  top1: string;
  top1Score: number;
  secondScore: number | null;
}

export interface Verdict {
  triple: TheirTriple;
  ours: OurAnswer | undefined;
  kind: 'equal' | 'near-tie' | 'differs';
}

export const tripleKey = (language: string, relation: string, lineid: number): string => `${language}/${relation}/${lineid}`;

/** The harness's answer of every triple: a query's answer is each of its triples' (they share one sentence). */
export function ourAnswers(rows: readonly Pick<ResultRow, 'language' | 'relation' | 'lineids' | 'top'>[]): Map<string, OurAnswer> {
  const out = new Map<string, OurAnswer>();
  for (const r of rows) {
    if (r.top.length === 0) continue;
    const a = { top1: r.top[0].label, top1Score: r.top[0].score, secondScore: r.top[1]?.score ?? null };
    for (const id of r.lineids) out.set(tripleKey(r.language, r.relation, id), a);
  }
  return out;
}

const close = (a: number, b: number | null, tol: number) => b !== null && Math.abs(a - b) <= tol;

/**
 * Top-1 per triple. A top-1 that differs where either side's two best candidates are within `tol` is a near tie:
 * counted equal (torch and onnxruntime differ by ~1e-6) and reported apart. A triple the harness lacks differs.
 */
export function compareTriples(theirs: readonly TheirTriple[], ours: ReadonlyMap<string, OurAnswer>, tol = NEAR_TIE) {
  const verdicts: Verdict[] = theirs.map((t) => {
    const o = ours.get(tripleKey(t.language, t.relation, t.lineid));
    if (o && o.top1 === t.top1) return { triple: t, ours: o, kind: 'equal' };
    const near = o !== undefined && (close(t.top1Score, t.secondScore, tol) || close(o.top1Score, o.secondScore, tol));
    return { triple: t, ours: o, kind: near ? 'near-tie' : 'differs' };
  });
  const nearTies = verdicts.filter((v) => v.kind === 'near-tie').length;
  const differ = verdicts.filter((v) => v.kind === 'differs');
  return { top1Equal: verdicts.length - differ.length, total: verdicts.length, nearTies, differ };
}

const isDate = (relation: string) => relation.includes('date');

/** P@1 per relation (eval.py skips relations named *date*) and per language, theirs against the harness's. */
export function compareP1(theirs: TheirRun['relations'], printed: TheirRun['printed'], ours: readonly MlamaPrecision[], tol = 1e-9) {
  const lines: string[] = [];
  let equal = true;
  for (const [lang, rels] of Object.entries(theirs)) {
    const o = ours.find((m) => m.language === lang && m.style === 'word');
    const names = Object.keys(rels).filter((r) => !isDate(r));
    const same = names.filter((r) => {
      const a = rels[r];
      const b = o?.relations[r]?.p1;
      return a !== null && b !== undefined && Math.abs(a - b) <= tol;
    });
    const p = printed?.[lang]?.p1;
    // A language eval.py printed no mean for is not equal; without eval.py at all (no en) the means are not compared.
    const langSame = printed === null || (p !== undefined && o?.p1 !== null && o?.p1 !== undefined && Math.abs(p - o.p1) <= tol);
    if (same.length !== names.length || !langSame || !o) equal = false;
    const shown = (x: number | null | undefined) => (x === null || x === undefined ? '-' : (100 * x).toFixed(2));
    lines.push(`${lang}: P@1 theirs (eval.py) ${shown(p)}, harness ${shown(o?.p1)}; relations with equal P@1 ${same.length}/${names.length}`);
  }
  if (printed === null) lines.push('eval.py not run (it reads English results beside every language; no en asked): per-language means not compared');
  return { equal, lines };
}

/** Collapses each run of mask ids into one, so that sentences asked with different mask counts line up. */
export function oneMask(ids: readonly number[], mask: number): number[] {
  return ids.filter((id, i) => id !== mask || ids[i - 1] !== mask);
}

const sameIds = (a: readonly number[] | undefined, b: readonly number[] | undefined) =>
  a !== undefined && b !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);

export interface HarnessInputs {
  sentences: ReadonlyMap<string, readonly number[]>;
  candidates: ReadonlyMap<string, ReadonlyMap<string, readonly number[]>>;
  mask: number;
}

/**
 * Why top-1s differ: a candidate at the top of either side tokenized otherwise, else the sentence tokenized
 * otherwise, else unexplained. Also counts the inputs that differ overall, whatever their answers did.
 */
export function diagnose(differ: readonly Verdict[], theirs: Pick<TheirRun, 'candidateIds' | 'sentenceIds'>, ours: HarnessInputs) {
  const cause = { candidate: 0, sentence: 0, unexplained: 0 };
  for (const d of differ) {
    const t = d.triple;
    const rel = `${t.language}/${t.relation}`;
    const theirIds = theirs.candidateIds[rel] ?? {};
    const ourIds = ours.candidates.get(rel);
    const tops = [t.top1, d.ours?.top1].filter((x): x is string => x !== undefined);
    if (tops.some((l) => !sameIds(theirIds[l], ourIds?.get(l)))) cause.candidate += 1;
    else if (!sameIds(theirs.sentenceIds[`${rel}/${t.subject}`], sentence(ours, `${rel}/${t.subject}`))) cause.sentence += 1;
    else cause.unexplained += 1;
  }
  const sentences = Object.entries(theirs.sentenceIds);
  const otherSentences = sentences.filter(([k, ids]) => !sameIds(ids, sentence(ours, k)));
  const cands = Object.entries(theirs.candidateIds).flatMap(([rel, m]) => Object.entries(m).map(([l, ids]) => ({ rel, l, ids })));
  const otherCands = cands.filter((c) => !sameIds(c.ids, ours.candidates.get(c.rel)?.get(c.l)));
  const byLanguage = (keys: string[]) => {
    const n = new Map<string, number>();
    for (const k of keys) n.set(k.split('/')[0], (n.get(k.split('/')[0]) ?? 0) + 1);
    return [...n].map(([l, c]) => `${l} ${c}`).join(', ');
  };
  return {
    cause,
    lines: [
      `inputs: sentences (one [MASK]) tokenized otherwise than the harness: ${otherSentences.length}/${sentences.length}${otherSentences.length ? ` (${byLanguage(otherSentences.map(([k]) => k))})` : ''}; candidates tokenized otherwise: ${otherCands.length}/${cands.length}`,
      `top-1 beyond tolerance by cause: candidate tokens ${cause.candidate}, sentence tokens ${cause.sentence}, unexplained ${cause.unexplained}`,
    ],
  };

  function sentence(o: HarnessInputs, key: string) {
    const ids = o.sentences.get(key);
    return ids ? oneMask(ids, o.mask) : undefined;
  }
}
