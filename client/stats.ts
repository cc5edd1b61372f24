import { completedConversations, datasetUtterances, reviewTotals, rewriteCounts } from '../db/stats';
import type { Pool } from '../db/pool';
import { distinct, repeatedOpenings, selfBleu } from '../metrics/text';
import { readRecordFolder } from '../readers/muse-record';
import { batchCost } from './cost';
import { PUBLISHED_MUSE } from '../metrics/published';
import { datasetCounts, describeCounts } from '../export';

/** What any dataset's text tells (a batch's, or a folder's in the Muse record format). */
export interface DatasetStats {
  conversations: number;
  utterances: number;
  utterancesPerConversation: number;
  lengthDistribution: Record<number, number>;
  wordsPerUtterance: number;
  imageOpenings: number;
  imagesPerConversation: number;
  actions: Record<string, number>;
  targetByRetrieval: number;
  targetForced: number;
  distinctScenarios: number;
  distinct1: number;
  distinct2: number;
  distinct3: number;
  selfBleu: number;
  selfBleuSample: number;
  repeatedOpenings: Record<string, { share: number; top: Array<[string, number]> }>;
}

/** A batch's figures: its text's, and what only the database knows (retrievers, categories, spend, stage 4). */
export interface BatchStats extends DatasetStats {
  /** Retrieved recommendations by the retriever that served them (`fulltext`, `hybrid:<model>`). */
  retrievers: Record<string, number>;
  distinctCategories: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number | null;
  /** Stage 4, over the completed conversations' current passes; null before stage 4 has run. */
  rewrites: { utterances: number; rewritten: number; accepted: number; colloquial: number } | null;
  reviews: {
    reviewed: number;
    meanTotal: number;
    totals: Record<number, number>;
    screenerYes: number;
    kept: string;
  } | null;
}

interface StatConversation {
  opening: string | null;
  outcome: string | null;
  scenario: string;
  utterances: Array<{ speaker: string; text: string; action: string | null; images: number }>;
}

/** The figures every dataset's text gives, whatever it was read from; `sample` conversations for self-BLEU. */
export function textStats(convs: readonly StatConversation[], sample: number): DatasetStats {
  const utts = convs.flatMap((c) => c.utterances);
  const lengthDistribution: Record<number, number> = {};
  for (const c of convs) lengthDistribution[c.utterances.length] = (lengthDistribution[c.utterances.length] ?? 0) + 1;
  const actions: Record<string, number> = {};
  for (const u of utts) if (u.action) actions[u.action] = (actions[u.action] ?? 0) + 1;
  const texts = utts.map((u) => u.text);
  const words = texts.reduce((n, t) => n + t.split(/\s+/).filter(Boolean).length, 0);
  const sampled = convs.slice(0, sample).map((c) => c.utterances.map((u) => u.text).join(' '));
  return {
    conversations: convs.length,
    utterances: utts.length,
    utterancesPerConversation: utts.length / convs.length,
    lengthDistribution,
    wordsPerUtterance: words / utts.length,
    imageOpenings: convs.filter((c) => c.opening === 'image').length,
    imagesPerConversation: utts.reduce((n, u) => n + u.images, 0) / convs.length,
    actions,
    targetByRetrieval: convs.filter((c) => c.outcome === 'retrieval').length,
    targetForced: convs.filter((c) => c.outcome === 'forced').length,
    distinctScenarios: new Set(convs.map((c) => c.scenario)).size,
    distinct1: distinct(texts, 1),
    distinct2: distinct(texts, 2),
    distinct3: distinct(texts, 3),
    selfBleu: selfBleu(sampled),
    selfBleuSample: sampled.length,
    repeatedOpenings: Object.fromEntries(
      ['User', 'Assistant'].map((sp) => [
        sp,
        repeatedOpenings(utts.filter((u) => u.speaker === sp).map((u) => u.text)),
      ]),
    ),
  };
}

/** A folder in the Muse record format (ours or the authors'): the figures its text gives, and what was left out. */
export function folderStats(dir: string, sample = 200): DatasetStats & { problems: string[] } {
  const src = readRecordFolder(dir);
  return {
    ...textStats(
      src.conversations.map((c) => ({
        opening: c.opening,
        outcome: c.outcome,
        scenario: c.scenario,
        utterances: c.utterances.map((u) => ({ ...u, images: u.images.length })),
      })),
      sample,
    ),
    problems: src.problems,
  };
}

/** The figures of a batch's completed conversations, from PostgreSQL alone (no LLM call). */
export async function batchStats(pool: Pool, batchId: string, sample = 200): Promise<BatchStats> {
  const convs = await completedConversations(pool, batchId);
  if (convs.length === 0) throw new Error(`batch ${batchId} has no completed conversation`);
  const utts = await datasetUtterances(pool, batchId);
  const byConv = new Map<string, typeof utts>();
  for (const u of utts) byConv.set(u.conversationId, [...(byConv.get(u.conversationId) ?? []), u]);
  const retrievers: Record<string, number> = {};
  for (const u of utts) if (u.retriever) retrievers[u.retriever] = (retrievers[u.retriever] ?? 0) + 1;
  const cost = await batchCost(pool, batchId);
  const rw = await rewriteCounts(pool, batchId);
  const rv = await reviewTotals(pool, batchId);
  const totals: Record<number, number> = {};
  for (const r of rv) totals[r.total] = (totals[r.total] ?? 0) + 1;
  return {
    ...textStats(
      convs.map((c) => ({ ...c, utterances: byConv.get(c.id) ?? [] })),
      sample,
    ),
    retrievers,
    distinctCategories: new Set(convs.map((c) => c.category)).size,
    inputTokens: cost.reduce((n, r) => n + r.inputTokens, 0),
    outputTokens: cost.reduce((n, r) => n + r.outputTokens, 0),
    costUsd: cost.some((r) => r.costUsd === null) ? null : cost.reduce((n, r) => n + (r.costUsd ?? 0), 0),
    rewrites: rw.n
      ? { utterances: rw.n, rewritten: rw.changed, accepted: rw.accepted, colloquial: rw.colloquial }
      : null,
    reviews: rv.length
      ? {
          reviewed: rv.length,
          meanTotal: rv.reduce((n, r) => n + r.total, 0) / rv.length,
          totals,
          screenerYes: rv.filter((r) => r.fits_context).length,
          kept: describeCounts(await datasetCounts(pool, batchId)),
        }
      : null,
  };
}

export function formatStats(batchId: string, s: DatasetStats | BatchStats): string {
  const b = 'retrievers' in s ? s : undefined;
  const pct = (n: number, of: number) => `${n} (${((100 * n) / of).toFixed(1)} %)`;
  const rows: Array<[string, string, string]> = [
    ['conversations', String(s.conversations), PUBLISHED_MUSE.conversations.toLocaleString('en')],
    ['utterances', String(s.utterances), PUBLISHED_MUSE.utterances.toLocaleString('en')],
    [
      'utterances per conversation',
      s.utterancesPerConversation.toFixed(2),
      PUBLISHED_MUSE.utterancesPerConversation.toFixed(2),
    ],
    [
      '  by length',
      Object.entries(s.lengthDistribution)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', '),
      '',
    ],
    ['words per utterance', s.wordsPerUtterance.toFixed(1), ''],
    ['image openings', pct(s.imageOpenings, s.conversations), ''],
    ['images per conversation', s.imagesPerConversation.toFixed(2), ''],
    [
      'actions',
      Object.entries(s.actions)
        .map(([k, v]) => `${k} ${((100 * v) / s.utterances).toFixed(1)} %`)
        .join(', '),
      '',
    ],
    ['target reached by retrieval', pct(s.targetByRetrieval, s.conversations), ''],
    ['target forced at max_round', pct(s.targetForced, s.conversations), ''],
    ...(b
      ? ([
          [
            'retrieved recommendations by',
            Object.entries(b.retrievers)
              .map(([k, v]) => `${k} ${v}`)
              .join(', ') || 'none',
            '',
          ],
        ] as Array<[string, string, string]>)
      : []),
    ['distinct scenarios', String(s.distinctScenarios), ''],
    ...(b
      ? ([
          ['distinct target categories', String(b.distinctCategories), ''],
          ['tokens (input / output)', `${b.inputTokens} / ${b.outputTokens}`, ''],
          ['cost', b.costUsd === null ? 'partly unpriced' : `$${b.costUsd.toFixed(4)}`, ''],
        ] as Array<[string, string, string]>)
      : []),
    ['Distinct-1 / 2 / 3', `${s.distinct1.toFixed(3)} / ${s.distinct2.toFixed(3)} / ${s.distinct3.toFixed(3)}`, ''],
    [`self-BLEU (${s.selfBleuSample} conversations)`, s.selfBleu.toFixed(3), ''],
    ...Object.entries(s.repeatedOpenings).map(
      ([sp, r]) =>
        [
          `${sp} turns opening like another`,
          `${(100 * r.share).toFixed(1)} %${r.top.length ? ` (most: "${r.top[0][0]}" ×${r.top[0][1]})` : ''}`,
          '',
        ] as [string, string, string],
    ),
    ...(b
      ? ([
          [
            'rewrite acceptance rate',
            b.rewrites
              ? `${((100 * b.rewrites.accepted) / b.rewrites.utterances).toFixed(1)} % of ${b.rewrites.utterances} (${b.rewrites.rewritten} reworded, ${b.rewrites.colloquial} colloquial)`
              : 'not measured: stage 4 has not run on this batch',
            '',
          ],
        ] as Array<[string, string, string]>)
      : []),
    ...(b?.reviews
      ? ([
          [
            'review total (0-6)',
            `mean ${b.reviews.meanTotal.toFixed(2)}; ${Object.entries(b.reviews.totals)
              .map(([k, v]) => `${k}: ${v}`)
              .join(', ')}`,
            '',
          ],
          ['screener: fits the context', pct(b.reviews.screenerYes, b.reviews.reviewed), ''],
          ['dataset at total >= 4, screener yes', b.reviews.kept, ''],
        ] as Array<[string, string, string]>)
      : []),
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  return [
    `${''.padEnd(w0)}  ${batchId}  |  Muse (published)`,
    ...rows.map(([k, v, m]) => `${k.padEnd(w0)}  ${v}${m ? `  |  ${m}` : ''}`),
  ].join('\n');
}
