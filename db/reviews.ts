import type { Pool } from './pool';

/** Stage 4's tables: a rewrite per utterance and a review per conversation, each keyed by the pass (prompt versions). */

export async function rewrittenIdx(pool: Pool, conversationId: string, pass: string): Promise<number[]> {
  const r = await pool.query('SELECT idx FROM rewrites WHERE conversation_id = $1 AND pass = $2', [
    conversationId,
    pass,
  ]);
  return r.rows.map((row) => row.idx);
}

export interface NewRewrite {
  conversationId: string;
  idx: number;
  pass: string;
  colloquial: boolean;
  rewrite: string;
  contentKept: boolean;
  noPreamble: boolean;
}

/** Upsert keyed by (conversation, pass, idx), in one statement: a retried rewrite replaces its own row. */
export async function saveRewrites(pool: Pool, rows: NewRewrite[]): Promise<void> {
  await pool.query(
    `INSERT INTO rewrites (conversation_id, idx, pass, colloquial, rewrite, content_kept, no_preamble)
     SELECT w."conversationId", w.idx, w.pass, w.colloquial, w.rewrite, w."contentKept", w."noPreamble"
     FROM jsonb_to_recordset($1::jsonb) AS w("conversationId" text, idx int, pass text, colloquial boolean, rewrite text,
                                              "contentKept" boolean, "noPreamble" boolean)
     ON CONFLICT (conversation_id, pass, idx) DO UPDATE SET colloquial = EXCLUDED.colloquial, rewrite = EXCLUDED.rewrite,
       content_kept = EXCLUDED.content_kept, no_preamble = EXCLUDED.no_preamble, created_at = now()`,
    [JSON.stringify(rows)],
  );
}

/** The rewrites the checker accepted, by utterance index. */
export async function acceptedRewrites(pool: Pool, conversationId: string, pass: string): Promise<Map<number, string>> {
  const r = await pool.query(
    'SELECT idx, rewrite FROM rewrites WHERE conversation_id = $1 AND pass = $2 AND accepted',
    [conversationId, pass],
  );
  return new Map(r.rows.map((row) => [row.idx, row.rewrite]));
}

/** A review's columns as the Review schema names them. */
const REVIEW_COLUMNS = `pass, content_quality AS "contentQuality", logical_fluency AS "logicalFluency",
  user_consistency AS "userConsistency", total, fits_context AS "fitsContext"`;

/** The stored review of this pass, as the Review schema names its fields; undefined when there is none. */
export async function findReview(pool: Pool, conversationId: string, pass: string): Promise<unknown> {
  const r = await pool.query(`SELECT ${REVIEW_COLUMNS} FROM reviews WHERE conversation_id = $1 AND pass = $2`, [
    conversationId,
    pass,
  ]);
  return r.rows[0];
}

export interface NewReview {
  conversationId: string;
  pass: string;
  contentQuality: number;
  logicalFluency: number;
  userConsistency: number;
  fitsContext: boolean;
}

/**
 * Stores the review and makes its pass the one the dataset uses, in one statement (so together); returns
 * the review as findReview does.
 */
export async function saveReview(pool: Pool, v: NewReview): Promise<unknown> {
  const r = await pool.query(
    `WITH saved AS (
       INSERT INTO reviews (conversation_id, pass, content_quality, logical_fluency, user_consistency, fits_context)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (conversation_id, pass) DO UPDATE SET content_quality = EXCLUDED.content_quality,
         logical_fluency = EXCLUDED.logical_fluency, user_consistency = EXCLUDED.user_consistency,
         fits_context = EXCLUDED.fits_context, created_at = now()
       RETURNING ${REVIEW_COLUMNS}),
     adopted AS (UPDATE conversations SET review_pass = $2 WHERE id = $1)
     SELECT * FROM saved`,
    [v.conversationId, v.pass, v.contentQuality, v.logicalFluency, v.userConsistency, v.fitsContext],
  );
  return r.rows[0];
}

/** A stored review whose pass is not yet the dataset's (a retry after the insert): make it so. */
export async function adoptReviewPass(pool: Pool, conversationId: string, pass: string): Promise<void> {
  await pool.query('UPDATE conversations SET review_pass = $2 WHERE id = $1 AND review_pass IS DISTINCT FROM $2', [
    conversationId,
    pass,
  ]);
}
