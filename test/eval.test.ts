import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEval } from '../client/eval';
import { exportBatch } from '../export';
import { meanCi, tQuantile975 } from '../eval/summary';
import { folderStats } from '../client/stats';
import { authorsFolder, rig, runBatch, type TestRig } from './helpers';

let t: TestRig;
let batchId: string;
const options = { sample: 8, seed: 3, provider: 'simulated', concurrency: 4 };
const judgeCalls = () => t.llm.calls.filter((c) => c.agent === 'datasetJudge').length;

beforeAll(async () => {
  t = await rig();
  ({ batchId } = await runBatch(t, 'eval', { size: 12, seed: 17, concurrency: 12 }));
});
afterAll(() => t?.close());

describe('mean and 95% confidence interval', () => {
  it('matches values computed by hand and Student t tables', () => {
    expect(tQuantile975(4)).toBe(2.776);
    expect(tQuantile975(60)).toBeCloseTo(2.0003, 3);
    expect(tQuantile975(120)).toBeCloseTo(1.9799, 3);
    const r = meanCi([1, 2, 3, 4, 5]);
    expect(r.mean).toBe(3);
    expect(r.ci95).toBeCloseTo((2.776 * Math.sqrt(2.5)) / Math.sqrt(5), 6);
    expect(meanCi([4, 4, 4]).ci95).toBe(0);
    expect(meanCi([4]).ci95).toBeNaN();
  });
});

describe('muse eval', () => {
  it('judges a seeded sample of a batch, stores the scores and judges nothing twice', async () => {
    const before = judgeCalls();
    const r = await runEval(t, batchId, options, (fn) => t.run(fn));
    expect(r).toMatchObject({ sampled: 8, judged: 8, available: expect.any(Number), problems: [] });
    expect(judgeCalls() - before).toBe(8);
    for (const d of Object.values(r.summary)) {
      expect(d.mean).toBeGreaterThanOrEqual(1);
      expect(d.mean).toBeLessThanOrEqual(5);
    }
    expect(r.summary.naturalness.n).toBe(8);
    const stored = (
      await t.pool.query('SELECT record_id, images, dialogue FROM eval_items WHERE eval_id = $1 ORDER BY k', [r.evalId])
    ).rows;
    expect(stored).toHaveLength(8);
    // Images travel by reference: every turn's image numbers point into the conversation's stored images.
    for (const s of stored)
      for (const turn of s.dialogue)
        for (const n of turn.images) expect(s.images[n - 1].sha256).toMatch(/^[0-9a-f]{64}$/);

    const again = await runEval(t, batchId, options, (fn) => t.run(fn));
    expect(again.evalId).toBe(r.evalId);
    expect(again.run).toBeUndefined();
    expect(again.summary).toEqual(r.summary);
    expect(judgeCalls() - before).toBe(8);
  });

  it('judges a dataset folder in the Muse record format, reporting and leaving out the bad records', async () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'muse-eval-')), 'ds');
    const exported = await exportBatch(t.pool, batchId, dir, { minScore: 0, requireScreener: false });
    fs.appendFileSync(
      path.join(dir, 'dataset.jsonl'),
      [
        '{"Conversations": []}',
        '{"Conversations": [{"User": "hi", "Assistant": "hello"}]}',
        '{"Conversations": [{"User": "this?", "Image": ["images/missing.png"]}]}',
      ].join('\n') + '\n',
    );
    const r = await runEval(t, dir, { ...options, sample: 200 }, (fn) => t.run(fn));
    expect(r.available).toBe(exported.conversations);
    expect(r.judged).toBe(exported.conversations);
    expect(r.problems).toHaveLength(3);
    const line = exported.conversations + 1;
    expect(r.problems[0]).toBe(
      `${path.join(dir, 'dataset.jsonl')}:${line}: Conversations: Too small: expected array to have >=1 items`,
    );
    expect(r.problems[1]).toContain(
      `dataset.jsonl:${line + 1}: Conversations.0: a turn needs exactly one of User or Assistant`,
    );
    expect(r.problems[2]).toContain(
      `dataset.jsonl:${line + 2}: Image: 1 file(s) not in the folder, e.g. images/missing.png`,
    );
    expect(r.summary.image_text_consistency.n).toBeGreaterThan(0);
  });

  it('reads the Muse record format as its authors write it: images without extensions, ids as numbers', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'muse-eval-authors-'));
    const exported = await exportBatch(t.pool, batchId, path.join(root, 'ours'), {
      minScore: 0,
      requireScreener: false,
    });
    const records = authorsFolder(path.join(root, 'ours'), path.join(root, 'theirs'));
    const r = await runEval(t, path.join(root, 'theirs'), { ...options, sample: 200 }, (fn) => t.run(fn));
    expect(r.problems).toEqual([]);
    expect(r.judged).toBe(exported.conversations);
    expect(r.summary.image_text_consistency.n).toBeGreaterThan(0);
    // muse stats reads the same folder: every conversation, utterance and image counted.
    const st = folderStats(path.join(root, 'theirs'));
    expect(st.problems).toEqual([]);
    expect(st.conversations).toBe(records.length);
    expect(st.utterances).toBe(exported.utterances);
    const images = records.flatMap((x) => x.Conversations.flatMap((c) => c.Image as string[])).length;
    expect(st.imagesPerConversation).toBeCloseTo(images / records.length, 6);
    expect(images).toBeGreaterThan(0);
    // A folder with nothing usable says what it left out and why, not just that there is nothing.
    const empty = path.join(root, 'empty');
    fs.mkdirSync(empty);
    fs.writeFileSync(path.join(empty, 'data.jsonl'), '{"Conversations": [{"Image": "x"}]}\n');
    await expect(runEval(t, empty, options, (fn) => t.run(fn))).rejects.toThrow(
      /no usable conversation in the Muse record format; left out:\n.*data\.jsonl:1: Conversations\.0: a turn needs exactly one of User or Assistant/,
    );
  });

  it('refuses what it cannot evaluate with a message that says why', async () => {
    await expect(runEval(t, 'no-such-batch-or-folder', options, (fn) => t.run(fn))).rejects.toThrow(
      /neither a folder nor a batch/,
    );
    await expect(runEval(t, batchId, { ...options, sample: 5000 }, (fn) => t.run(fn))).rejects.toThrow(/at most 1000/);
  });
});
