import { FailureType } from '../schemas/failures';
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from '../db/pool';

export interface LedgerRow {
  contentHash: string;
  conversationId?: string;
  batchId?: string;
  callKey: string;
  agent: string;
  role: string;
  baseUrl?: string;
  model: string;
  promptVersion: string;
  attempt?: number;
  ask: number;
  status: 'ok' | 'cached' | 'http_error' | 'network_error' | 'invalid';
  httpStatus?: number;
  error?: string;
  responseMode?: string;
  inputTokens?: number;
  outputTokens?: number;
  latencyMs: number;
  costUsd?: number | null;
  rawReply?: string;
  output?: unknown;
}

/** The record of every call, the cache in front of the endpoint, and the keeper of each batch's budget. */
export class Ledger {
  /** Conversation -> batch: fixed once a conversation exists, so asked of PostgreSQL once per worker. */
  private readonly batches = new Map<string, string | undefined>();
  constructor(private readonly pool: Pool) {}

  async batchOf(conversationId: string): Promise<string | undefined> {
    if (!this.batches.has(conversationId)) {
      this.batches.set(
        conversationId,
        (await this.pool.query('SELECT batch_id FROM conversations WHERE id = $1', [conversationId])).rows[0]?.batch_id,
      );
    }
    return this.batches.get(conversationId);
  }

  /**
   * Refuses a new paid call once the batch has spent its cap (`--max-cost`): calls already sent finish
   * and are recorded, so a resume with a higher cap reuses every answer that arrived.
   */
  async checkBudget(batchId: string | undefined): Promise<void> {
    if (!batchId) return;
    const b = (
      await this.pool.query(
        `SELECT 'batch' AS kind, max_cost_usd AS cap, spent_usd AS spent FROM batches WHERE id = $1
      UNION ALL SELECT 'evaluation', max_cost_usd, spent_usd FROM evals WHERE id = $1`,
        [batchId],
      )
    ).rows[0];
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
    const r = await this.pool.query(
      `SELECT output FROM llm_calls WHERE content_hash = $1 AND status = 'ok' ORDER BY id LIMIT 1`,
      [contentHash],
    );
    return r.rowCount ? r.rows[0].output : undefined;
  }

  async record(row: LedgerRow): Promise<void> {
    await this.pool.query(
      `INSERT INTO llm_calls (content_hash, conversation_id, call_key, agent, role, base_url, model, prompt_version, attempt, ask,
         status, http_status, error, response_mode, input_tokens, output_tokens, latency_ms, cost_usd, raw_reply, output, batch_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)`,
      [
        row.contentHash,
        row.conversationId ?? null,
        row.callKey,
        row.agent,
        row.role,
        row.baseUrl ?? null,
        row.model,
        row.promptVersion,
        row.attempt ?? null,
        row.ask,
        row.status,
        row.httpStatus ?? null,
        row.error ?? null,
        row.responseMode ?? null,
        row.inputTokens ?? null,
        row.outputTokens ?? null,
        row.latencyMs,
        row.costUsd ?? null,
        row.rawReply ?? null,
        row.output === undefined ? null : JSON.stringify(row.output),
        row.batchId ?? null,
      ],
    );
    // The id is a batch's or an evaluation's: one round trip adds the cost to whichever it is.
    if (row.batchId && row.costUsd) {
      await this.pool.query(
        `WITH b AS (UPDATE batches SET spent_usd = spent_usd + $2 WHERE id = $1)
         UPDATE evals SET spent_usd = spent_usd + $2 WHERE id = $1`,
        [row.batchId, row.costUsd],
      );
    }
  }
}
