/**
 * Text metrics of a dataset: sentence-BLEU as NLTK computes it (modified precision clipped by the
 * references, brevity penalty against the closest reference length, uniform weights up to 4-grams,
 * no smoothing, so a missing order makes the score 0), Distinct-n, self-BLEU and repeated openings.
 */

export const tokens = (text: string): string[] => text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? [];

export function ngrams(toks: readonly string[], n: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i + n <= toks.length; i++) {
    const g = toks.slice(i, i + n).join('\u0001');
    m.set(g, (m.get(g) ?? 0) + 1);
  }
  return m;
}

/** Clipped matches and total n-grams of the hypothesis, against the highest count in any reference. */
export function modifiedPrecision(
  references: ReadonlyArray<readonly string[]>,
  hypothesis: readonly string[],
  n: number,
): { matched: number; total: number } {
  const hyp = ngrams(hypothesis, n);
  const maxRef = new Map<string, number>();
  for (const r of references)
    for (const [g, c] of ngrams(r, n)) if (hyp.has(g)) maxRef.set(g, Math.max(maxRef.get(g) ?? 0, c));
  let matched = 0;
  let total = 0;
  for (const [g, c] of hyp) {
    matched += Math.min(c, maxRef.get(g) ?? 0);
    total += c;
  }
  return { matched, total };
}

function brevityPenalty(references: ReadonlyArray<readonly string[]>, hypLength: number): number {
  // The closest reference length; on a tie the shorter one, as NLTK does.
  const closest = references
    .map((r) => r.length)
    .reduce((best, len) => {
      const d = Math.abs(len - hypLength);
      const bd = Math.abs(best - hypLength);
      return d < bd || (d === bd && len < best) ? len : best;
    }, Infinity);
  return hypLength > closest ? 1 : hypLength === 0 ? 0 : Math.exp(1 - closest / hypLength);
}

export function sentenceBleu(
  references: ReadonlyArray<readonly string[]>,
  hypothesis: readonly string[],
  maxN = 4,
): number {
  let logSum = 0;
  for (let n = 1; n <= maxN; n++) {
    const { matched, total } = modifiedPrecision(references, hypothesis, n);
    if (matched === 0 || total === 0) return 0;
    logSum += Math.log(matched / total) / maxN;
  }
  return brevityPenalty(references, hypothesis.length) * Math.exp(logSum);
}

/** Distinct-n: unique n-grams over all n-grams of the texts. */
export function distinct(texts: readonly string[], n: number): number {
  const seen = new Set<string>();
  let total = 0;
  for (const t of texts) {
    for (const [g, c] of ngrams(tokens(t), n)) {
      seen.add(g);
      total += c;
    }
  }
  return total ? seen.size / total : 0;
}

/** Self-BLEU: each document scored against all the others as references, averaged (lower is more varied). */
export function selfBleu(documents: readonly string[]): number {
  const docs = documents.map(tokens);
  if (docs.length < 2) return 0;
  let sum = 0;
  for (let i = 0; i < docs.length; i++)
    sum += sentenceBleu(
      docs.filter((_, j) => j !== i),
      docs[i],
    );
  return sum / docs.length;
}

/** A turn's first words, lower-cased and without punctuation: two turns with the same opening read as a repetition. */
export const openingOf = (text: string, words: number): string => tokens(text).slice(0, words).join(' ');

/** Share of a speaker's turns whose first four words open another of that speaker's turns too. */
export function repeatedOpenings(turns: readonly string[], words = 4): { share: number; top: Array<[string, number]> } {
  const openings = turns.map((t) => openingOf(t, words)).filter(Boolean);
  const counts = new Map<string, number>();
  for (const o of openings) counts.set(o, (counts.get(o) ?? 0) + 1);
  const repeated = openings.filter((o) => counts.get(o)! > 1).length;
  const top = [...counts]
    .filter(([, c]) => c > 1)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3);
  return { share: openings.length ? repeated / openings.length : 0, top };
}
