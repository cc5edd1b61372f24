import { FailureType } from '../schemas/failures';
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from '../db/pool';
import { countCall } from '../observability/metrics';
import { answeredOutput, batchIdOf, budgetOf, chargeSpend, insertCall, type LedgerRow } from '../db/ledger';

/** The record of every call, the cache in front of the endpoint, and the keeper of each batch's budget. */
export class Ledger {
  /** Conversation -> batch: fixed once a conversation exists, so asked of PostgreSQL once per worker. */
  private readonly batches = new Map<string, string | undefined>();
  constructor(private readonly pool: Pool) {}

  async batchOf(conversationId: string): Promise<string | undefined> {
    if (!this.batches.has(conversationId)) {
      this.batches.set(conversationId, await batchIdOf(this.pool, conversationId));
    }
    return this.batches.get(conversationId);
  }

  /**
   * Refuses a new paid call once the batch has spent its cap (`--max-cost`): calls already sent finish
   * and are recorded, so a resume with a higher cap reuses every answer that arrived.
   */
  async checkBudget(batchId: string | undefined): Promise<void> {
    if (!batchId) return;
    const b = await budgetOf(this.pool, batchId);
    if (b?.cap === null || b?.cap === undefined || b.spent < b.cap) return;
    const next =
      b.kind === 'batch'
        ? `\`muse resume ${batchId} --max-cost USD\` continues it`
        : 'the same `muse eval` command with a higher --max-cost continues it';
    throw ApplicationFailure.nonRetryable(
      `${b.kind} ${batchId} reached its budget cap of $${Number(b.cap).toFixed(2)} ($${Number(b.spent).toFixed(4)} spent): ${next} with a higher cap`,
      FailureType.BudgetExceeded,
    );
  }

  async answered(contentHash: string): Promise<unknown | undefined> {
    return answeredOutput(this.pool, contentHash);
  }

  async record(row: LedgerRow): Promise<void> {
    await insertCall(this.pool, row);
    countCall(row);
    if (row.batchId && row.costUsd) await chargeSpend(this.pool, row.batchId, row.costUsd);
  }
}
