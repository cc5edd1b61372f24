import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stage4Pass } from '../activities/stage4';
import { optimizeBatch } from '../client/batches';
import { buildRecords, exportBatch } from '../export';
import { PROMPTS } from '../prompts';
import { rig, runBatch, type TestRig } from './helpers';

let t: TestRig;
let batchId: string;
const q = async (sql: string, args: unknown[] = []) => (await t.pool.query(sql, args)).rows;

beforeAll(async () => {
  t = await rig();
  ({ batchId } = await runBatch(t, 'stage4', { size: 20, seed: 41, concurrency: 10 }));
});
afterAll(() => t?.close());

describe('stage 4 inside each conversation workflow', () => {
  it('stores a checked rewrite beside every utterance and one review per conversation', async () => {
    const pass = stage4Pass();
    const [c] = await q(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE review_pass = $2)::int AS reviewed FROM conversations WHERE batch_id = $1 AND status = 'completed'`,
      [batchId, pass],
    );
    expect(c).toEqual({ n: 20, reviewed: 20 });
    const [r] = await q(
      `SELECT count(u.*)::int AS utterances, count(r.*)::int AS rewrites, count(*) FILTER (WHERE r.colloquial)::int AS colloquial,
         count(*) FILTER (WHERE length(r.rewrite) > length(u.text))::int AS longer
       FROM utterances u JOIN conversations c ON c.id = u.conversation_id LEFT JOIN rewrites r ON r.conversation_id = u.conversation_id AND r.idx = u.idx AND r.pass = $2
       WHERE c.batch_id = $1`,
      [batchId, pass],
    );
    expect(r.rewrites).toBe(r.utterances);
    expect(r.longer).toBe(0);
    // p = 0.2 per utterance, drawn from each conversation's seed: about 44 of ~220, well inside 20..70.
    expect(r.colloquial).toBeGreaterThan(20);
    expect(r.colloquial).toBeLessThan(70);
    const reviews = await q(
      'SELECT r.* FROM reviews r JOIN conversations c ON c.id = r.conversation_id WHERE c.batch_id = $1',
      [batchId],
    );
    expect(reviews).toHaveLength(20);
    for (const v of reviews) expect(v.total).toBe(v.content_quality + v.logical_fluency + v.user_consistency);
  });

  it('exports the accepted rewrite, and the original where the checker rejected it', async () => {
    const [changed] = await q(
      `SELECT r.conversation_id, r.idx, r.rewrite, u.text FROM rewrites r JOIN utterances u USING (conversation_id, idx)
       JOIN conversations c ON c.id = r.conversation_id WHERE c.batch_id = $1 AND r.accepted AND r.rewrite <> u.text ORDER BY 1, 2 LIMIT 1`,
      [batchId],
    );
    expect(changed).toBeDefined();
    const textOf = async () => {
      const rec = (await buildRecords(t.pool, batchId, { minScore: 0, requireScreener: false })).records.find(
        (x) => x.Conversation_id === changed.conversation_id,
      )!;
      const turn = rec.Conversations[changed.idx];
      return 'User' in turn ? turn.User : turn.Assistant;
    };
    expect(await textOf()).toBe(changed.rewrite);
    await q('UPDATE rewrites SET content_kept = false WHERE conversation_id = $1 AND idx = $2', [
      changed.conversation_id,
      changed.idx,
    ]);
    try {
      expect(await textOf()).toBe(changed.text);
    } finally {
      await q('UPDATE rewrites SET content_kept = true WHERE conversation_id = $1 AND idx = $2', [
        changed.conversation_id,
        changed.idx,
      ]);
    }
  });

  it('applies the thresholds at export time, so changing one needs no LLM call', async () => {
    const ids = (await q('SELECT id FROM conversations WHERE batch_id = $1 ORDER BY idx', [batchId])).map((r) => r.id);
    await q(
      'UPDATE reviews SET content_quality = 0, logical_fluency = 1, user_consistency = 2 WHERE conversation_id = $1',
      [ids[0]],
    ); // total 3
    await q(
      'UPDATE reviews SET content_quality = 2, logical_fluency = 2, user_consistency = 2, fits_context = false WHERE conversation_id = $1',
      [ids[1]],
    );
    await q(
      'UPDATE reviews SET content_quality = 2, logical_fluency = 2, user_consistency = 2, fits_context = true WHERE conversation_id <> ALL($1) AND conversation_id IN (SELECT id FROM conversations WHERE batch_id = $2)',
      [[ids[0], ids[1]], batchId],
    );
    const calls = t.llm.calls.length;
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'muse-s4-')), 'ds');
    const strict = await exportBatch(t.pool, batchId, out);
    expect(strict.counts).toMatchObject({
      considered: 20,
      kept: 18,
      dropped: 2,
      belowMinScore: 1,
      screenerNo: 1,
      notReviewed: 0,
    });
    expect(strict.ids).not.toContain(ids[0]);
    expect(strict.ids).not.toContain(ids[1]);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'))).toMatchObject({
      kept: 18,
      thresholds: { minScore: 4, requireScreener: true },
    });
    const lines = fs
      .readFileSync(path.join(out, 'dataset.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.every((r) => r.Review.Total >= 4 && r.Review.Fits_context)).toBe(true);
    expect((await exportBatch(t.pool, batchId, out, { minScore: 3 })).counts).toMatchObject({
      kept: 19,
      belowMinScore: 0,
      screenerNo: 1,
    });
    expect((await exportBatch(t.pool, batchId, out, { minScore: 3, requireScreener: false })).counts).toMatchObject({
      kept: 20,
      dropped: 0,
    });
    expect((await exportBatch(t.pool, batchId, out, { minScore: 6 })).counts.kept).toBe(18);
    expect(t.llm.calls.length).toBe(calls);
  });
});

describe('muse optimize', () => {
  it('runs stage 4 again with a new prompt version beside the old pass, and a second run calls no agent', async () => {
    const before = stage4Pass();
    const original = PROMPTS.qualityReviewer.version;
    (PROMPTS.qualityReviewer as { version: string }).version = 'quality-reviewer@test';
    try {
      const pass = stage4Pass();
      expect(pass).not.toBe(before);
      const calls = t.llm.calls.length;
      const { handle, todo } = await optimizeBatch(t, batchId, { concurrency: 10 });
      expect(todo).toBe(20);
      const progress = await t.run(() => handle!.result());
      expect(progress).toMatchObject({ done: 20, failed: 0 });
      const agents = t.llm.calls.slice(calls).map((c) => c.agent);
      expect(agents.filter((a) => a === 'qualityReviewer')).toHaveLength(20);
      expect(agents.filter((a) => a === 'recommendationScreener')).toHaveLength(20);
      expect(new Set(agents)).toEqual(
        new Set(['utteranceRewriter', 'rewriteChecker', 'qualityReviewer', 'recommendationScreener']),
      );
      const [r] = await q(
        `SELECT count(*) FILTER (WHERE review_pass = $2)::int AS now, (SELECT count(*)::int FROM reviews v JOIN conversations k ON k.id = v.conversation_id WHERE k.batch_id = $1) AS reviews
         FROM conversations WHERE batch_id = $1`,
        [batchId, pass],
      );
      expect(r).toEqual({ now: 20, reviews: 40 });
      // The rewrites of the earlier pass are still there, beside the new ones.
      expect(
        (
          await q(
            'SELECT DISTINCT pass FROM rewrites r JOIN conversations c ON c.id = r.conversation_id WHERE c.batch_id = $1 ORDER BY 1',
            [batchId],
          )
        )
          .map((x) => x.pass)
          .sort(),
      ).toEqual([before, pass].sort());

      const again = t.llm.calls.length;
      const second = await optimizeBatch(t, batchId);
      expect(second.handle).toBeUndefined();
      expect(second.todo).toBe(0);
      expect(t.llm.calls.length).toBe(again);
    } finally {
      (PROMPTS.qualityReviewer as { version: string }).version = original;
    }
  });
});
