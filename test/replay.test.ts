import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKFLOWS_PATH } from '../worker';
import { rig, runBatch, type TestRig } from './helpers';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { batchWorkflowId, profilesWorkflowId } from '../common/ids';

const FIXTURES = path.join(__dirname, 'fixtures', 'histories');
let t: TestRig;
let ids: string[];

beforeAll(async () => {
  t = await rig();
  // Recording, a larger batch: more kinds of conversation to keep.
  const { batchId } = await runBatch(t, 'replay', { size: process.env.MUSE_RECORD_HISTORIES ? 40 : 10, seed: 3 });
  ids = (await t.pool.query('SELECT id FROM conversations WHERE batch_id = $1 ORDER BY idx', [batchId])).rows.map(
    (r) => r.id,
  );
  ids.push(batchWorkflowId(batchId));
  if (process.env.MUSE_RECORD_HISTORIES) await recordFixtures(batchId);
});
afterAll(() => t?.close());

/**
 * `MUSE_RECORD_HISTORIES=1 npx vitest run test/replay.test.ts` writes the histories of this run as the
 * fixtures of today's shape (CONTRIBUTING.md, "Fixtures"): the batch, its profiles run, and one
 * conversation of each kind the run made (opening, chit-chat after a recommendation or not, outcome).
 */
async function recordFixtures(batchId: string): Promise<void> {
  for (const f of fs.readdirSync(FIXTURES)) if (f.endsWith('.json')) fs.rmSync(path.join(FIXTURES, f));
  const write = async (name: string, workflowId: string) =>
    fs.writeFileSync(
      path.join(FIXTURES, `${name}.json`),
      historyToJSON(await t.client.workflow.getHandle(workflowId).fetchHistory()) + '\n',
    );
  const rows = (
    await t.pool.query(
      `SELECT c.id, c.opening, c.outcome,
              EXISTS (SELECT 1 FROM utterances a JOIN utterances r ON r.conversation_id = a.conversation_id
                      WHERE a.conversation_id = c.id AND a.action = 'chit-chat' AND r.action = 'recommend'
                        AND a.idx > r.idx) AS chit
       FROM conversations c WHERE c.batch_id = $1 ORDER BY c.idx`,
      [batchId],
    )
  ).rows;
  const kinds = new Set<string>();
  for (const r of rows) {
    const kind = `conversation-${r.opening}${r.chit ? '-chitchat' : ''}-${r.outcome}`;
    if (!kinds.has(kind)) await write(kind, r.id);
    kinds.add(kind);
  }
  await write('batch', batchWorkflowId(batchId));
  await write('profiles', `${profilesWorkflowId(batchId)}-0`);
}

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
   * Histories recorded from real runs of every shape this release replays (common/shape.ts): conversations
   * of each kind (text and image openings, chit-chat, forced targets and hits), a batch and a stage-2 run.
   * A change that breaks them would break runs in flight: version it with patched() (CONTRIBUTING.md).
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
