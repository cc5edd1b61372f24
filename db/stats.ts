import type { Pool } from './pool';

/** Read-only figures over a batch or the whole database: what `muse stats` and `muse estimate` report. */

export interface CompletedConversation {
  id: string;
  opening: string;
  outcome: string;
  scenario: string;
  category: string;
}

export async function completedConversations(pool: Pool, batchId: string): Promise<CompletedConversation[]> {
  const r = await pool.query(
    `SELECT c.id, c.opening, c.outcome, p.scenario, p.category FROM conversations c JOIN profiles p ON p.id = c.profile_id
     WHERE c.batch_id = $1 AND c.status = 'completed' ORDER BY c.idx`,
    [batchId],
  );
  return r.rows;
}

export interface DatasetUtterance {
  conversationId: string;
  speaker: string;
  text: string;
  action: string;
  images: number;
  retriever: string | null;
}

/** The utterances as the dataset has them (accepted rewrites in place), of completed conversations. */
export async function datasetUtterances(pool: Pool, batchId: string): Promise<DatasetUtterance[]> {
  const r = await pool.query(
    `SELECT u.conversation_id AS "conversationId", u.speaker, u.final_text AS text, u.action,
       jsonb_array_length(u.images) AS images, u.meta->>'retriever' AS retriever
     FROM dataset_utterances u JOIN conversations c ON c.id = u.conversation_id WHERE c.batch_id = $1 AND c.status = 'completed'
     ORDER BY u.conversation_id, u.idx`,
    [batchId],
  );
  return r.rows;
}

/** Stage 4's rewrites of the current pass: how many, accepted, colloquial, and changed from the original. */
export async function rewriteCounts(
  pool: Pool,
  batchId: string,
): Promise<{ n: number; accepted: number; colloquial: number; changed: number }> {
  const r = await pool.query(
    `SELECT count(*)::int AS n, count(*) FILTER (WHERE r.accepted)::int AS accepted, count(*) FILTER (WHERE r.colloquial)::int AS colloquial,
       count(*) FILTER (WHERE r.rewrite <> u.text)::int AS changed
     FROM rewrites r JOIN conversations c ON c.id = r.conversation_id AND r.pass = c.review_pass
     JOIN utterances u ON u.conversation_id = r.conversation_id AND u.idx = r.idx
     WHERE c.batch_id = $1 AND c.status = 'completed'`,
    [batchId],
  );
  return r.rows[0];
}

/** The current pass's review of each completed conversation: its total and the screener's verdict. */
export async function reviewTotals(
  pool: Pool,
  batchId: string,
): Promise<Array<{ total: number; fits_context: boolean }>> {
  const r = await pool.query(
    `SELECT r.total, r.fits_context FROM reviews r JOIN conversations c ON c.id = r.conversation_id AND r.pass = c.review_pass
     WHERE c.batch_id = $1 AND c.status = 'completed'`,
    [batchId],
  );
  return r.rows;
}

/** Stage 2 over a provider's samples: how many were drawn, written (past the gate) and accepted. */
export async function stage2Counts(
  pool: Pool,
  provider: string,
): Promise<{ samples: number; written: number; accepted: number }> {
  const r = await pool.query(
    `SELECT count(*)::int AS samples, count(*) FILTER (WHERE status <> 'gated_out')::int AS written,
       count(*) FILTER (WHERE status = 'accepted')::int AS accepted FROM profiles WHERE provider = $1`,
    [provider],
  );
  return r.rows[0];
}

/** Stage 3 over completed conversations: image openings tried and passed, retrieved recommendations and hits. */
export async function stage3Counts(
  pool: Pool,
): Promise<{ tried: number; passed: number; retrieved: number; hits: number }> {
  const r = await pool.query(`
    SELECT count(*) FILTER (WHERE c.image_opening IS NOT NULL)::int AS tried,
           count(*) FILTER (WHERE (c.image_opening->>'ok')::boolean)::int AS passed,
           (SELECT count(*) FROM utterances u JOIN conversations c2 ON c2.id = u.conversation_id
              WHERE c2.status = 'completed' AND u.action = 'recommend' AND NOT (u.meta->>'forced')::boolean)::int AS retrieved,
           (SELECT count(*) FROM utterances u JOIN conversations c2 ON c2.id = u.conversation_id
              WHERE c2.status = 'completed' AND u.action = 'recommend' AND (u.meta->>'hitTarget')::boolean
                AND NOT (u.meta->>'forced')::boolean)::int AS hits
    FROM conversations c WHERE c.status = 'completed'`);
  return r.rows[0];
}

/** Mean input and output tokens per agent over answered calls, for agents with at least `min` of them. */
export async function agentTokenAverages(
  pool: Pool,
  min: number,
): Promise<Array<{ agent: string; i: number; o: number }>> {
  const r = await pool.query(
    `SELECT agent, avg(input_tokens)::float AS i, avg(output_tokens)::float AS o FROM llm_calls
     WHERE status = 'ok' GROUP BY agent HAVING count(*) >= $1`,
    [min],
  );
  return r.rows;
}
