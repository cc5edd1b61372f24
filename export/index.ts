import fs from 'node:fs';
import path from 'node:path';
import { imageAbsolutePath } from '../catalog/images';
import type { Pool } from '../db/pool';
import { ConversationRecord, type RecordTurn } from '../schemas/record';
import { ImageRef } from '../schemas/catalog';
import { personaLine } from '../schemas/profile';

export interface ExportReport {
  dir: string;
  conversations: number;
  utterances: number;
  images: number;
  skipped: number;
}

/** Completed conversations of a batch as Muse records, each validated by its schema. */
export async function buildRecords(pool: Pool, batchId: string): Promise<{ records: ConversationRecord[]; images: Map<string, string>; skipped: number }> {
  const convs = await pool.query(
    `SELECT c.id, c.opening, c.outcome, c.status, b.provider, p.name, p.gender, p.age, p.profession, p.backstory, p.requirement, p.target_item_id
     FROM conversations c JOIN batches b ON b.id = c.batch_id JOIN profiles p ON p.id = c.profile_id
     WHERE c.batch_id = $1 ORDER BY c.idx`,
    [batchId],
  );
  const utts = await pool.query(
    `SELECT u.conversation_id, u.speaker, u.text, u.action, u.mentioned_item_ids, u.images
     FROM utterances u JOIN conversations c ON c.id = u.conversation_id WHERE c.batch_id = $1 AND c.status = 'completed'
     ORDER BY u.conversation_id, u.idx`,
    [batchId],
  );
  const byConv = new Map<string, typeof utts.rows>();
  for (const u of utts.rows) byConv.set(u.conversation_id, [...(byConv.get(u.conversation_id) ?? []), u]);
  // Exported image name -> stored path; the record refers to images/<item>.<ext>, stable across exports.
  const images = new Map<string, string>();
  const records: ConversationRecord[] = [];
  let skipped = 0;
  for (const c of convs.rows) {
    if (c.status !== 'completed') {
      skipped++;
      continue;
    }
    const turns: RecordTurn[] = (byConv.get(c.id) ?? []).map((u) => {
      const refs = ImageRef.array().parse(u.images);
      const paths = refs.map((r) => {
        const name = `images/${r.itemId}${path.extname(r.path)}`;
        images.set(name, r.path);
        return name;
      });
      const fields = { Action: u.action, Mentioned_item: u.mentioned_item_ids, Image: paths };
      return u.speaker === 'User' ? { User: u.text, ...fields } : { Assistant: u.text, ...fields };
    });
    const mentioned = [...new Set(turns.flatMap((t) => t.Mentioned_item))];
    records.push(ConversationRecord.parse({
      Conversation_id: c.id,
      Batch_id: batchId,
      Persona: personaLine(c),
      Scenario: c.backstory,
      Requirement: c.requirement,
      Target_item: c.target_item_id,
      Mentioned_items: mentioned,
      Opening: c.opening,
      Target_reached_by: c.outcome,
      Provider: c.provider,
      Simulated: c.provider === 'simulated',
      Conversations: turns,
    }));
  }
  return { records, images, skipped };
}

/**
 * Writes <out>/conversations/<id>.json, <out>/dataset.jsonl and <out>/images/. Everything is written
 * into a temporary folder and renamed into place, so an interrupted export leaves no half-written dataset.
 */
export async function exportBatch(pool: Pool, batchId: string, out: string): Promise<ExportReport> {
  const { records, images, skipped } = await buildRecords(pool, batchId);
  if (records.length === 0) throw new Error(`batch ${batchId} has no completed conversation to export`);
  const dir = path.resolve(out);
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(path.join(tmp, 'conversations'), { recursive: true });
  fs.mkdirSync(path.join(tmp, 'images'), { recursive: true });
  for (const r of records) fs.writeFileSync(path.join(tmp, 'conversations', `${r.Conversation_id}.json`), JSON.stringify(r, null, 2) + '\n');
  fs.writeFileSync(path.join(tmp, 'dataset.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  for (const [name, stored] of images) fs.copyFileSync(imageAbsolutePath(stored), path.join(tmp, name));
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  fs.renameSync(tmp, dir);
  return { dir, conversations: records.length, utterances: records.reduce((n, r) => n + r.Conversations.length, 0), images: images.size, skipped };
}
