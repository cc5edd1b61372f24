import type { Pool } from './pool';
import type { Action } from '../schemas/conversation';
import type { Gender } from '../schemas/profile';
import { Item } from '../schemas/catalog';
import { ITEM_COLUMNS, ITEMS_FROM } from './items';

/** What the export reads: a batch's conversations with their current review, their utterances, and the models behind them. */

/** A conversation of a batch with its profile and the review of its current pass (nulls when not reviewed). */
export interface ReviewedConversation {
  id: string;
  opening: string | null;
  outcome: string | null;
  status: string;
  provider: string;
  profile_provider: string;
  profile_seed: string;
  profile_seq: number;
  name: string;
  gender: Gender;
  age: number;
  profession: string;
  backstory: string;
  requirement: string;
  target_item_id: string;
  category: string;
  scenario_group: string;
  scenario: string;
  pass: string | null;
  content_quality: number | null;
  logical_fluency: number | null;
  user_consistency: number | null;
  total: number;
  fits_context: boolean | null;
}

export async function reviewedConversations(pool: Pool, batchId: string): Promise<ReviewedConversation[]> {
  const r = await pool.query(
    `SELECT c.id, c.opening, c.outcome, c.status, b.provider, p.provider AS profile_provider, p.seed AS profile_seed,
       p.seq AS profile_seq, p.name, p.gender, p.age, p.profession, p.backstory, p.requirement, p.target_item_id,
       p.category, p.scenario_group, p.scenario,
       r.pass, r.content_quality, r.logical_fluency, r.user_consistency, r.total, r.fits_context
     FROM conversations c JOIN batches b ON b.id = c.batch_id JOIN profiles p ON p.id = c.profile_id
     LEFT JOIN reviews r ON r.conversation_id = c.id AND r.pass = c.review_pass
     WHERE c.batch_id = $1 ORDER BY c.idx`,
    [batchId],
  );
  return r.rows;
}

/**
 * The models that answered each stage's calls of these conversations (cache hits count: the answer came
 * from that model), as "<conversation>|<stage>" -> sorted model names; agents not in `stages` are 'Conversation'.
 */
export async function modelsByConversationStage(
  pool: Pool,
  conversationIds: string[],
  stages: Record<string, readonly string[]>,
): Promise<Map<string, string[]>> {
  const stageOf = `CASE ${Object.entries(stages)
    .map(([st, agents]) => `WHEN agent IN (${agents.map((a) => `'${a}'`).join(', ')}) THEN '${st}'`)
    .join(' ')} ELSE 'Conversation' END`;
  const r = await pool.query(
    `SELECT conversation_id AS id, ${stageOf} AS stage, array_agg(DISTINCT model ORDER BY model) AS models
     FROM llm_calls WHERE conversation_id = ANY($1) AND status IN ('ok', 'cached') GROUP BY 1, 2`,
    [conversationIds],
  );
  return new Map(r.rows.map((row) => [`${row.id}|${row.stage}`, row.models]));
}

/** The models that answered calls made outside any conversation (stage 2's), by call key. */
export async function modelsByCallKey(
  pool: Pool,
  keys: string[],
): Promise<Array<{ call_key: string; models: string[] }>> {
  const r = await pool.query(
    `SELECT call_key, array_agg(DISTINCT model ORDER BY model) AS models FROM llm_calls
     WHERE conversation_id IS NULL AND call_key = ANY($1) AND status IN ('ok', 'cached') GROUP BY 1`,
    [keys],
  );
  return r.rows;
}

export interface DatasetUtteranceRow {
  conversation_id: string;
  speaker: 'User' | 'Assistant';
  text: string;
  /** Stage 3's text when an accepted rewrite replaced it, else null. */
  original: string | null;
  action: Action;
  mentioned_item_ids: string[];
  images: Array<{ itemId: string; path: string; sha256: string }>;
}

/** The utterances of these conversations as the dataset has them (accepted rewrites in place), in order. */
export async function datasetUtterancesOf(pool: Pool, conversationIds: string[]): Promise<DatasetUtteranceRow[]> {
  const r = await pool.query(
    `SELECT u.conversation_id, u.speaker, u.final_text AS text, CASE WHEN u.rewritten AND u.final_text <> u.text THEN u.text END AS original,
       u.action, u.mentioned_item_ids, u.images
     FROM dataset_utterances u WHERE u.conversation_id = ANY($1) ORDER BY u.conversation_id, u.idx`,
    [conversationIds],
  );
  return r.rows;
}

/** Items as an export lists them: the catalog record, stage 1's caption and the stored image. */
export async function datasetItems(
  pool: Pool,
  ids: readonly string[],
): Promise<Array<Item & { caption: string | null }>> {
  const r = await pool.query(
    `SELECT ${ITEM_COLUMNS}, i.caption FROM ${ITEMS_FROM}
     WHERE i.id = ANY($1) ORDER BY i.id`,
    [ids],
  );
  return r.rows.map((row) => ({ ...Item.parse(row), caption: row.caption }));
}

/** Which model and prompt version answered each agent of a batch (its conversations and its profiles), with the tokens spent. */
export async function agentsOfBatch(
  pool: Pool,
  batchId: string,
): Promise<Array<{ agent: string; role: string; model: string; prompt_version: string; calls: number }>> {
  const r = await pool.query(
    `SELECT agent, role, model, prompt_version, count(*)::int AS calls FROM llm_calls
     WHERE (conversation_id IN (SELECT id FROM conversations WHERE batch_id = $1) OR batch_id = $1)
       AND status IN ('ok', 'cached')
     GROUP BY 1, 2, 3, 4 ORDER BY 1, 3, 4`,
    [batchId],
  );
  return r.rows;
}
