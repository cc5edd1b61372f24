import { ngrams, sentenceBleu, tokens } from '../metrics/text';

/** The method's stage-2 dedup threshold: a backstory this close (sentence-BLEU) to an accepted one is dropped. */
export const MAX_BLEU = 0.15;

export interface Nearest {
  /** The highest sentence-BLEU against one indexed text (0 when none shares a 4-gram). */
  score: number;
  against?: string;
  /** Full BLEU computations it took. */
  compared: number;
}

/**
 * Accepted backstories with an inverted index of their 4-grams. Unsmoothed sentence-BLEU is 0 unless
 * the texts share a 4-gram, so only texts that do are scored, most shared first; the answer is exactly
 * what comparing against every text would give, at a small fraction of the cost.
 */
export class BleuIndex {
  private readonly docs = new Map<string, string[]>();
  private readonly postings = new Map<string, string[]>();

  get size(): number {
    return this.docs.size;
  }

  add(id: string, text: string): void {
    const toks = tokens(text);
    this.docs.set(id, toks);
    for (const g of ngrams(toks, 4).keys()) {
      const list = this.postings.get(g);
      if (list) list.push(id);
      else this.postings.set(g, [id]);
    }
  }

  /** The closest indexed text; stops early once one scores above `stopAbove` (enough to reject). */
  nearest(text: string, stopAbove = Infinity): Nearest {
    const hyp = tokens(text);
    const shared = new Map<string, number>();
    for (const g of ngrams(hyp, 4).keys())
      for (const id of this.postings.get(g) ?? []) shared.set(id, (shared.get(id) ?? 0) + 1);
    let best: Nearest = { score: 0, compared: 0 };
    for (const [id] of [...shared].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) {
      const score = sentenceBleu([this.docs.get(id)!], hyp);
      best =
        score > best.score
          ? { score, against: id, compared: best.compared + 1 }
          : { ...best, compared: best.compared + 1 };
      if (best.score > stopAbove) break;
    }
    return best;
  }
}

/** The same answer the slow way, for tests and the benchmark: BLEU against every (tokenised) text. */
export function nearestNaive(docs: ReadonlyMap<string, readonly string[]>, text: string): Nearest {
  const hyp = tokens(text);
  let best: Nearest = { score: 0, compared: 0 };
  for (const [id, d] of docs) {
    const score = sentenceBleu([d], hyp);
    best = {
      score: Math.max(best.score, score),
      against: score > best.score ? id : best.against,
      compared: best.compared + 1,
    };
  }
  return best;
}
