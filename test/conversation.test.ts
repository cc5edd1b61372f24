import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAgainstMethod, loadBatch, type StoredConversation } from './method-check';
import { rig, runBatch, type TestRig } from './helpers';
import { COLOUR_FAMILY } from '../agents/simulated/rules';

const N = 60;
let t: TestRig;
let batchId: string;
let convs: StoredConversation[];

beforeAll(async () => {
  t = await rig();
  let progress;
  ({ batchId, progress } = await runBatch(t, 'method', { size: N, seed: 7, concurrency: 15 }));
  expect(progress).toMatchObject({ total: N, done: N, failed: 0, running: 0 });
  convs = await loadBatch(t.pool, batchId);
});
afterAll(() => t?.close());

describe('a batch follows stage 3 of the method', () => {
  it('every conversation walks the openings, rounds and actions the method allows', () => {
    expect(convs).toHaveLength(N);
    for (const c of convs) checkAgainstMethod(c);
  });

  it('has both openings, chit-chat rounds, early hits and forced targets, and 12 utterances in the common case', () => {
    const shapes = convs.map(checkAgainstMethod);
    const image = convs.filter((c) => c.opening === 'image').length;
    expect(image).toBeGreaterThan(0);
    expect(image).toBeLessThan(N * 0.2 + 1); // tried with p = 0.2, and some tries fail back to text
    expect(shapes.some((s) => s.chitChatRounds.length > 0)).toBe(true);
    expect(shapes.some((s) => s.earlyHit)).toBe(true);
    expect(shapes.some((s) => !s.earlyHit)).toBe(true);
    const twelve = shapes.filter((s) => s.length === 12).length;
    expect(twelve).toBeGreaterThan(N / 2);
    for (const s of shapes.filter((x) => !x.earlyHit)) expect(s.length).toBe(12);
  });

  it('the simulated texts are grounded: rejections name a real difference, acceptances cite the target', async () => {
    const items = new Map((await t.pool.query('SELECT id, title, details FROM items')).rows.map((r) => [r.id, r]));
    for (const c of convs) {
      const target = items.get(c.target)!;
      const accept = c.utterances[c.utterances.length - 1];
      expect(accept.text.toLowerCase(), c.id).toContain(String(target.details.Colour));
      for (const r of c.utterances.filter((u) => u.action === 'reject')) {
        const reason = r.meta.reason as { attribute: string; difference: string };
        const rec = items.get(r.mentioned_item_ids[0])!;
        if (reason.attribute === 'colour') {
          expect(rec.details.Colour).not.toBe(target.details.Colour);
          // By colour family ("blue" for navy), or by shade within one ("darker blue").
          expect(r.text, r.text).toContain(COLOUR_FAMILY[String(target.details.Colour)]);
        }
      }
    }
  });

  it('makes every conversation findable in the Web UI by batch, opening and outcome, with a memo', async () => {
    const query = `MuseBatchId="${batchId}" AND WorkflowType="conversationWorkflow"`;
    let rows: Array<{ workflowId: string; searchAttributes: Record<string, unknown>; memo?: Record<string, unknown> }> =
      [];
    for (let i = 0; i < 40 && rows.length < N; i++) {
      rows = [];
      for await (const w of t.client.workflow.list({ query })) rows.push(w as never);
      if (rows.length < N) await new Promise((r) => setTimeout(r, 250));
    }
    expect(rows).toHaveLength(N);
    for (const w of rows) {
      const c = convs.find((x) => x.id === w.workflowId)!;
      expect(w.searchAttributes.MuseOpening).toEqual([c.opening]);
      expect(w.searchAttributes.MuseOutcome).toEqual([c.outcome]);
      expect(w.searchAttributes.MuseTargetItem).toEqual([c.target]);
    }
    const d = await t.client.workflow.getHandle(convs[0].id).describe();
    expect(String(d.memo?.persona)).toMatch(/^Name: .+, Gender: .+, Age: \d+, Profession: .+$/);
    expect(String(d.memo?.targetItem)).toContain(convs[0].target);
  });

  it('spends its workflow tasks on agent calls alone: no bookkeeping step, one task per activity and the first', async () => {
    for (const c of convs.slice(0, 5)) {
      const events = (await t.client.workflow.getHandle(c.id).fetchHistory()).events!;
      // Beginning the conversation rides on its first agent call, finishing stage 3 on stage 4's activity.
      const markers = events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity');
      expect(markers, c.id).toHaveLength(0);
      const activities = events.filter((e) => e.activityTaskScheduledEventAttributes).length;
      expect(events.filter((e) => e.workflowTaskCompletedEventAttributes).length, c.id).toBe(activities + 1);
    }
  });
});
