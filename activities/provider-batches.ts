import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { BatchApi } from '../agents/batch';
import { nudgeCollector } from './collector';
import { batchAnsweredSignal, batchRoomSignal } from '../common/signals';
import { providerBatchWorkflowId } from '../common/ids';
import type { Mllm } from '../agents/calls';
import type { Pool } from '../db/pool';
import { planProviderBatches, providerBatch, requestersOf, waitingForRoom } from '../db/provider-batches';
import { instanceId } from '../db/pool';
import { enqueuedTokenLimit } from '../agents/batch-policy';
import { FailureType } from '../schemas/failures';
import { inLanes } from '../common/lanes';
import { budgetCause, describeFailure, fatalCause } from '../common/failures';

/** Signals sent at once to the workflows waiting for a provider batch. */
const SIGNALS_IN_FLIGHT = 20;

/** The activities of the collector and provider-batch workflows (workflows/provider-batches.ts). */
export function providerBatchActivities({ pool, llm }: { pool: Pool; llm: (provider: string) => Mllm }) {
  const api = (): BatchApi => {
    const m = llm('openai');
    if (!m.batches)
      throw ApplicationFailure.nonRetryable(
        'this worker has no Batch API (the openai provider)',
        FailureType.Configuration,
      );
    return m.batches;
  };
  const heartbeat = () => Context.current().heartbeat();

  return {
    /** The run's queued requests into provider batches within the provider's limits; the ids of every batch not sent yet. */
    async planProviderBatches(input: { runId: string }): Promise<number[]> {
      const s = api().settings;
      return planProviderBatches(pool, input.runId, {
        maxRequests: s.maxRequestsPerFile,
        maxBytes: s.maxBytesPerFile,
        // Half the limit: the next batch waits in the queue while the one before it is stored, and an
        // estimate the provider counts higher (up to twice) still fits.
        maxTokens: (model) => enqueuedTokenLimit(s, model) / 2,
      });
    },

    /** Whether a planned batch may go to the provider now, under its model's queue limit. */
    async admitProviderBatch(input: { id: number }) {
      return api().admit(input.id);
    },

    /** Writes and uploads a planned batch's request file (its budget checked first), before it waits for its place. */
    async prepareProviderBatch(input: { id: number }): Promise<void> {
      await api().prepare(input.id, heartbeat);
    },

    async submitProviderBatch(input: { id: number }) {
      const r = await api().submit(input.id, heartbeat);
      return { ...r, pollSeconds: api().settings.pollSeconds, pollMaxSeconds: api().settings.pollMaxSeconds };
    },

    async pollProviderBatch(input: { id: number }) {
      return api().poll(input.id);
    },

    async ingestProviderBatch(input: { id: number }) {
      return api().ingest(input.id);
    },

    async abandonProviderBatch(input: { id: number; error: string }): Promise<void> {
      await api().abandon(input.id, input.error);
    },

    /**
     * Which of these workflows ended, and how: for conversations a batch's run took over (workflows/adopted.ts).
     * A failure comes with the type the batch reads (out of budget, fatal) and the message it records.
     */
    async endedWorkflows(input: {
      workflowIds: string[];
    }): Promise<Array<{ workflowId: string; ok: boolean; message: string; type?: string }>> {
      const { client } = Context.current();
      const ended: Array<{ workflowId: string; ok: boolean; message: string; type?: string }> = [];
      await inLanes(input.workflowIds.length, SIGNALS_IN_FLIGHT, async (k) => {
        const workflowId = input.workflowIds[k];
        const handle = client.workflow.getHandle(workflowId);
        let status: string;
        try {
          status = (await handle.describe()).status.name;
        } catch (e) {
          if (!(e instanceof WorkflowNotFoundError)) throw e;
          ended.push({ workflowId, ok: false, message: 'its workflow is not on the server any more' });
          return;
        }
        if (status === 'RUNNING') return;
        if (status === 'COMPLETED') return void ended.push({ workflowId, ok: true, message: 'completed' });
        try {
          await handle.result();
          ended.push({ workflowId, ok: true, message: 'completed' });
        } catch (e) {
          const cause = budgetCause(e) ?? fatalCause(e);
          ended.push({
            workflowId,
            ok: false,
            message: cause?.message ?? describeFailure(e),
            type: cause?.type ?? undefined,
          });
        }
        Context.current().heartbeat();
      });
      return ended;
    },

    /**
     * Signals every workflow that waits for a request of this batch (a finished one is skipped), and the
     * run's collector when requests went back to the queue.
     */
    async notifyRequesters(input: { id: number; requeued: number }): Promise<number> {
      const { client, info } = Context.current();
      const requesters = await requestersOf(pool, input.id);
      await inLanes(requesters.length, SIGNALS_IN_FLIGHT, async (k) => {
        try {
          await client.workflow.getHandle(requesters[k]).signal(batchAnsweredSignal);
        } catch (e) {
          if (!(e instanceof WorkflowNotFoundError)) throw e;
        }
      });
      const row = await providerBatch(pool, input.id);
      if (input.requeued > 0) await nudgeCollector(client, info.taskQueue, pool, row.run_id, api().settings);
      // Its place in the provider's queue is free: the batches of its model waiting for one try again.
      const database = await instanceId(pool);
      const waiting = (await waitingForRoom(pool, row.base_url, row.model)).filter((id) => id !== input.id);
      await inLanes(waiting.length, SIGNALS_IN_FLIGHT, async (k) => {
        try {
          await client.workflow.getHandle(providerBatchWorkflowId(database, waiting[k])).signal(batchRoomSignal);
        } catch (e) {
          if (!(e instanceof WorkflowNotFoundError)) throw e;
        }
      });
      return requesters.length;
    },
  };
}
