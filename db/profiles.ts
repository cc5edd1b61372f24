import { countsBy, type Pool, type PoolClient } from './pool';
import type { ProfileSample } from '../schemas/profile';

type Db = Pool | PoolClient;

/** One chunk of a seed's samples: seq from..to-1. */
export interface SeqRange {
  seed: number;
  from: number;
  to: number;
}

/** Every sample a seed has produced, by what stage 2 made of it (accepted, gated_out, duplicate). */
export async function profileStatusCounts(pool: Pool, seed: number): Promise<Record<string, number>> {
  return countsBy(
    pool,
    'SELECT status AS key, count(*)::int AS n FROM profiles WHERE seed = $1 GROUP BY status ORDER BY status',
    [seed],
  );
}

/** Accepted backstories after acceptance order `order`, in that order (the BLEU index replays them). */
export async function acceptedSince(
  db: Db,
  order: number,
): Promise<Array<{ id: string; backstory: string; acceptedOrder: number }>> {
  const r = await db.query(
    `SELECT id, backstory, accepted_order::float8 AS "acceptedOrder" FROM profiles
     WHERE status = 'accepted' AND accepted_order > $1 ORDER BY accepted_order`,
    [order],
  );
  return r.rows;
}

/** Where a seed's sequence goes on: its first pending sample, else past its last one. */
export async function nextProfileSeq(pool: Pool, seed: number): Promise<number> {
  const r = await pool.query(
    `SELECT coalesce(min(seq) FILTER (WHERE status = 'pending'), max(seq) + 1, 0)::int AS next FROM profiles WHERE seed = $1`,
    [seed],
  );
  return r.rows[0].next;
}

export async function storedSeqs(pool: Pool, seed: number, from: number, to: number): Promise<number[]> {
  const r = await pool.query('SELECT seq FROM profiles WHERE seed = $1 AND seq >= $2 AND seq < $3', [seed, from, to]);
  return r.rows.map((row) => row.seq);
}

export interface NewProfile {
  id: string;
  seed: number;
  seq: number;
  sample: ProfileSample;
  backstory: string | null;
  requirement: string | null;
  status: 'pending' | 'gated_out';
  gate: unknown;
  provider: string;
}

/** Stores a sample once: a retried chunk leaves the stored one as it is. */
export async function insertProfile(pool: Pool, p: NewProfile): Promise<void> {
  const s = p.sample;
  await pool.query(
    `INSERT INTO profiles (id, seed, seq, category, target_item_id, scenario_group, scenario, age, gender, name, profession,
       backstory, requirement, status, gate, provider)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT (seed, seq) DO NOTHING`,
    [
      p.id,
      p.seed,
      p.seq,
      s.category,
      s.targetItemId,
      s.scenarioGroup,
      s.scenario,
      s.age,
      s.gender,
      s.name,
      s.profession,
      p.backstory,
      p.requirement,
      p.status,
      p.gate,
      p.provider,
    ],
  );
}

/** Serialises acceptance across workers for the rest of the transaction. */
export async function lockAcceptance(c: PoolClient): Promise<void> {
  await c.query("SELECT pg_advisory_xact_lock(hashtext('muse.accept-profiles'))");
}

export async function pendingProfiles(c: PoolClient, r: SeqRange): Promise<Array<{ id: string; backstory: string }>> {
  const q = await c.query(
    `SELECT id, backstory FROM profiles WHERE seed = $1 AND seq >= $2 AND seq < $3 AND status = 'pending' ORDER BY seq`,
    [r.seed, r.from, r.to],
  );
  return q.rows;
}

/** A chunk's samples by what acceptance made of them so far. */
export async function chunkCounts(
  c: PoolClient,
  r: SeqRange,
): Promise<{ accepted: number; duplicates: number; gatedOut: number }> {
  const q = await c.query(
    `SELECT count(*) FILTER (WHERE status = 'accepted')::int AS accepted, count(*) FILTER (WHERE status = 'duplicate')::int AS duplicates,
       count(*) FILTER (WHERE status = 'gated_out')::int AS "gatedOut"
     FROM profiles WHERE seed = $1 AND seq >= $2 AND seq < $3`,
    [r.seed, r.from, r.to],
  );
  return q.rows[0];
}

export async function markDuplicate(c: PoolClient, id: string, bleu: number, of: string | undefined): Promise<void> {
  await c.query(`UPDATE profiles SET status = 'duplicate', max_bleu = $2, duplicate_of = $3 WHERE id = $1`, [
    id,
    bleu,
    of,
  ]);
}

/** Accepts a profile and returns its place in acceptance order. */
export async function markAccepted(c: PoolClient, id: string, bleu: number): Promise<number> {
  const r = await c.query(
    `UPDATE profiles SET status = 'accepted', max_bleu = $2, accepted_order = nextval('profiles_accepted_order')
     WHERE id = $1 RETURNING accepted_order::float8 AS "acceptedOrder"`,
    [id, bleu],
  );
  return r.rows[0].acceptedOrder;
}
