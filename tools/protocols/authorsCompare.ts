import type { AuthorsPrecision, AuthorsQuestion } from '../../src/report/protocolMetrics.js';

/** What the authors' evaluate.py writes: its printed P@k and, per question string, the candidates it sorted. */
export interface TheirResult {
  metrics: Record<string, number>;
  output: Record<string, { answer: string; candidates: [string, number, ...unknown[]][] }>;
}

/** Scores from torch and onnxruntime differ in the last bits: orders resting on a gap this small are near ties
 * (both checks: this one and mlama-compare.ts). */
export const NEAR_TIE = 1e-4;

export interface Agreement {
  /** Question strings both sides have. */
  questions: number;
  /** Question strings only one side has (each a defect of the preset). */
  onlyTheirs: string[];
  onlyOurs: string[];
  answerEqual: number;
  top1Equal: number;
  /** Of top1Equal: a different top-1 whose score is within NEAR_TIE of theirs. */
  top1NearTies: number;
  rankEqual: number;
  rankNearTies: number;
  /** P@k as counts of questions: the script's printed fraction times its questions, the harness's, and the span
   * near ties allow. */
  pAtK: { k: number; theirs: number; ours: number; span: [number, number] }[];
  /** One line per disagreement beyond tolerance. */
  differences: string[];
}

/** Their first entry of `label` and where it stands (1-based); Infinity when absent. */
function firstOf(candidates: TheirResult['output'][string]['candidates'], label: string): { rank: number; score: number } {
  const i = candidates.findIndex(([obj]) => obj === label);
  return i < 0 ? { rank: Number.POSITIVE_INFINITY, score: Number.NaN } : { rank: i + 1, score: candidates[i][1] };
}

/**
 * Compares one style and language: the script's output against the harness's questions (authorsQuestions at
 * NEAR_TIE) and its printed P@k (authorsPrecision). `stored`: candidates the harness keeps per answer; ranks past
 * it are equal when both are.
 */
export function compareAuthors(theirs: TheirResult, ours: readonly AuthorsQuestion[], precision: AuthorsPrecision, stored: number): Agreement {
  const mine = new Map(ours.map((q) => [q.question, q]));
  const a: Agreement = {
    questions: 0,
    onlyTheirs: Object.keys(theirs.output).filter((q) => !mine.has(q)),
    onlyOurs: ours.filter((q) => !(q.question in theirs.output)).map((q) => q.question),
    answerEqual: 0,
    top1Equal: 0,
    top1NearTies: 0,
    rankEqual: 0,
    rankNearTies: 0,
    pAtK: [],
    differences: [],
  };
  for (const [question, t] of Object.entries(theirs.output)) {
    const q = mine.get(question);
    if (!q) continue;
    a.questions += 1;
    if (t.answer === q.answer) a.answerEqual += 1;
    else a.differences.push(`${question}: answer ${t.answer} (script) vs ${q.answer}`);
    const [best, bestScore] = t.candidates[0];
    const other = firstOf(t.candidates, q.top1.label);
    if (best === q.top1.label) a.top1Equal += 1;
    else if (Math.abs(other.score - bestScore) <= NEAR_TIE) {
      a.top1Equal += 1;
      a.top1NearTies += 1;
    } else a.differences.push(`${question}: top-1 ${best} (script) vs ${q.top1.label}`);
    // Entries within NEAR_TIE of the answer's score stand in either order (ours holds the questions ranked at
    // NEAR_TIE): a rank anywhere in that span is a near tie.
    const gold = firstOf(t.candidates, t.answer).rank;
    const beyond = gold > stored && !Number.isFinite(q.rank);
    if (gold === q.rank || beyond) a.rankEqual += 1;
    else if (gold >= q.bestRank && gold <= q.bestRank + q.tiedWith) {
      a.rankEqual += 1;
      a.rankNearTies += 1;
    } else a.differences.push(`${question}: gold rank ${gold} (script) vs ${q.rank}`);
  }
  const n = Object.keys(theirs.output).length;
  a.pAtK = Object.keys(precision.p)
    .map(Number)
    .map((k) => ({
      k,
      theirs: Math.round((theirs.metrics[`k${k}`] ?? Number.NaN) * n),
      ours: Math.round(precision.p[k] * precision.questions),
      // Hits at k if every near tie went against the answer, and if every one went for it.
      span: [ours.filter((q) => q.bestRank + q.tiedWith <= k).length, ours.filter((q) => q.bestRank <= k).length] as [number, number],
    }));
  return a;
}
