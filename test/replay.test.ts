import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKFLOWS_PATH } from '../worker';
import { rig, runBatch, type TestRig } from './helpers';
import { batchWorkflowId } from '../common/ids';

const FIXTURES = path.join(__dirname, 'fixtures', 'histories');
let t: TestRig;
let ids: string[];

beforeAll(async () => {
  t = await rig();
  const { batchId } = await runBatch(t, 'replay', { size: 10, seed: 3 });
  ids = (await t.pool.query('SELECT id FROM conversations WHERE batch_id = $1 ORDER BY idx', [batchId])).rows.map(
    (r) => r.id,
  );
  ids.push(batchWorkflowId(batchId));
});
afterAll(() => t?.close());

describe('workflow determinism', () => {
  it('replays the histories just recorded with the current workflow code', async () => {
    const histories = await Promise.all(
      ids.map(async (workflowId) => ({
        workflowId,
        history: await t.client.workflow.getHandle(workflowId).fetchHistory(),
      })),
    );
    const results = [];
    for await (const r of Worker.runReplayHistories({ workflowsPath: WORKFLOWS_PATH }, histories)) results.push(r);
    expect(results).toHaveLength(ids.length);
    for (const r of results) expect(r.error, r.workflowId).toBeUndefined();
  });

  /**
   * Histories recorded from real runs (`temporal workflow show -w <id> -o json`): conversations of each shape
   * the workflow has had (text and image openings, chit-chat, forced targets and hits), a batch and a stage-2 run. A change
   * that breaks them would break conversations in flight: version it with patched() instead.
   */
  it('replays the committed histories: workflow changes must stay compatible with runs already in flight', async () => {
    const files = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(4);
    const histories = files.map((f) => ({
      workflowId: f,
      history: JSON.parse(fs.readFileSync(path.join(FIXTURES, f), 'utf8')) as unknown,
    }));
    const results = [];
    for await (const r of Worker.runReplayHistories({ workflowsPath: WORKFLOWS_PATH }, histories)) results.push(r);
    expect(results).toHaveLength(files.length);
    for (const r of results) expect(r.error, r.workflowId).toBeUndefined();
  });
});
