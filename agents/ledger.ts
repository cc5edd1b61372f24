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

/** The record of every call, and the cache in front of the endpoint. */
export class Ledger {
  constructor(private readonly pool: Pool) {}

  async answered(contentHash: string): Promise<unknown | undefined> {
    const r = await this.pool.query(`SELECT output FROM llm_calls WHERE content_hash = $1 AND status = 'ok' ORDER BY id LIMIT 1`, [contentHash]);
    return r.rowCount ? r.rows[0].output : undefined;
  }

  async record(row: LedgerRow): Promise<void> {
    await this.pool.query(
      `INSERT INTO llm_calls (content_hash, conversation_id, call_key, agent, role, base_url, model, prompt_version, attempt, ask,
         status, http_status, error, response_mode, input_tokens, output_tokens, latency_ms, cost_usd, raw_reply, output, batch_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)`,
      [row.contentHash, row.conversationId ?? null, row.callKey, row.agent, row.role, row.baseUrl ?? null, row.model, row.promptVersion,
        row.attempt ?? null, row.ask, row.status, row.httpStatus ?? null, row.error ?? null, row.responseMode ?? null,
        row.inputTokens ?? null, row.outputTokens ?? null, row.latencyMs, row.costUsd ?? null, row.rawReply ?? null,
        row.output === undefined ? null : JSON.stringify(row.output), row.batchId ?? null],
    );
  }
}
