import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { batchWorkflowId } from '../common/ids';
import * as SA from '../common/search-attributes';
import { shapeAttribute, WORKFLOW_SHAPE } from '../common/shape';
import { ensureTemporalCli } from '../stack/temporal-cli';
import { createMuseWorker } from '../worker';
import { batchWorkflow } from '../workflows/batch';
import { env, rig, uniqueBatch, type TestRig } from './helpers';

const rigs: TestRig[] = [];
afterAll(async () => {
  for (const t of rigs) await t.close();
});

/** Visibility trails the runs by a moment: asks until `ok` holds or the time is up. */
async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  let v = await read();
  for (let i = 0; i < 80 && !ok(v); i++) {
    await new Promise((r) => setTimeout(r, 250));
    v = await read();
  }
  return v;
}

describe('upgrading with open runs (CONTRIBUTING.md)', () => {
  it("stamps every run of a batch with this release's shape: children and continued runs too", async () => {
    const t = await rig();
    rigs.push(t);
    const batchId = uniqueBatch('shape');
    const h = await t.client.workflow.start(batchWorkflow, {
      workflowId: batchWorkflowId(batchId),
      taskQueue: t.taskQueue,
      args: [{ batchId, size: 12, seed: 5, concurrency: 3, provider: 'simulated', historyBudget: 40 }],
      typedSearchAttributes: [{ key: SA.BatchId, value: batchId }, shapeAttribute],
    });
    await t.run(() => h.result());
    const count = (q: string) => t.client.workflow.count(q).then((r) => r.count);
    const onQueue = `TaskQueue = "${t.taskQueue}"`;
    // 12 conversations and at least two runs of the batch (it continued as new), and a stage-2 run when the
    // database had too few unused profiles (other tests may have left some).
    const total = await eventually(
      () => count(onQueue),
      (n) => n >= 14,
    );
    expect(total).toBeGreaterThanOrEqual(14);
    expect(
      await count(`WorkflowId = "${batchWorkflowId(batchId)}" AND MuseShape = "${WORKFLOW_SHAPE}"`),
    ).toBeGreaterThanOrEqual(2);
    const stamped = await eventually(
      () => count(`${onQueue} AND MuseShape = "${WORKFLOW_SHAPE}"`),
      (n) => n === total,
    );
    expect(stamped).toBe(total);
    expect(await count(`${onQueue} AND MuseShape IS NULL`)).toBe(0);
  });

  it('a worker refuses, in one line, to start over open runs of a shape it does not replay; the command it names ends them', async () => {
    const base = `test-${randomUUID()}`;
    const t = await rig({ taskQueue: `unused-${randomUUID()}` });
    rigs.push(t);
    const batchId = uniqueBatch('old');
    // A run as a release before shapes were stamped left it: open, on the queue, no MuseShape.
    await t.client.workflow.start(batchWorkflow, {
      workflowId: batchWorkflowId(batchId),
      taskQueue: `${base}/simulated`,
      args: [{ batchId, size: 1, seed: 1, concurrency: 1, provider: 'simulated' }],
      typedSearchAttributes: [{ key: SA.BatchId, value: batchId }],
    });
    const temporal = { connectionOptions: { address: env().temporalAddress }, namespace: 'default' };
    const start = () => createMuseWorker({ temporal, databaseUrl: env().databaseUrl, taskQueue: base });
    /** A worker that started: run for a moment and closed (a created worker must run before its connection closes). */
    const stop = async (w: Awaited<ReturnType<typeof start>>) => {
      await w.runUntil(Promise.resolve());
      await w.close();
    };
    const refused = await eventually(
      () =>
        start().then(
          async (w) => (await w.close(), undefined),
          (e: Error) => e,
        ),
      (e) => e !== undefined,
    );
    expect(refused?.message.split('\n')).toHaveLength(1);
    expect(refused?.message).toMatch(/^1 open run was started by another release of muse/);
    expect(refused?.message).toContain(`shape none; this worker replays ${WORKFLOW_SHAPE}`);
    expect(refused?.message).toContain(batchWorkflowId(batchId));
    expect(refused?.message).toContain(`muse resume ${batchId}`);
    // The command the line names, as a user would paste it.
    const terminate = /`(temporal workflow terminate [^`]+)`/.exec(refused!.message)![1];
    const cli = await ensureTemporalCli();
    await promisify(execFile)('sh', ['-c', terminate.replace(/^temporal /, `'${cli}' `)]);
    const w = await eventually(
      () => start().catch(() => undefined),
      (x) => x !== undefined,
    );
    expect(w).toBeDefined();
    await stop(w!);
  });
});
