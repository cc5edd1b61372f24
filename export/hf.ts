import fs from 'node:fs';
import path from 'node:path';
import type { ConversationRecord } from '../schemas/record';
import type { Dataset } from './records';
import { writeParquet } from './parquet';
import { SPLITS, type Split } from './splits';
import { datasetCard } from './card';
import { CONVERSATION_COLUMNS, ITEM_COLUMNS, shardName } from './hf-columns';

/** What the Hugging Face format writes at the top of its folder. */
export const HF_ENTRIES = ['data', 'items.parquet', 'README.md', 'summary.json'];

/** At most this many conversations per Parquet shard (a 7,000-conversation train split is two files). */
const SHARD_ROWS = 5_000;

/** "Name: Ada, Gender: female, Age: 34, Profession: nurse" -> its fields (profession null for "None"). */
export function personaFields(line: string) {
  const m = /^Name: (.+), Gender: (.+), Age: (\d+), Profession: (.+)$/.exec(line);
  if (!m) return { name: line, gender: null, age: null, profession: null };
  return { name: m[1], gender: m[2], age: Number(m[3]), profession: m[4] === 'None' ? null : m[4] };
}

export function conversationRow(r: ConversationRecord): Record<string, unknown> {
  const prov = (p?: { Provider: string; Models: string[] }) => (p ? { provider: p.Provider, models: p.Models } : null);
  return {
    conversation_id: r.Conversation_id,
    batch_id: r.Batch_id,
    persona: personaFields(r.Persona),
    scenario_group: r.Sample?.Scenario_group ?? null,
    seed_scenario: r.Sample?.Scenario ?? null,
    scenario: r.Scenario,
    requirement: r.Requirement,
    target_item_id: r.Target_item,
    target_category: r.Sample?.Category ?? null,
    opening: r.Opening,
    outcome: r.Target_reached_by,
    utterances: r.Conversations.map((t) => ({
      speaker: 'User' in t ? 'User' : 'Assistant',
      text: 'User' in t ? t.User : t.Assistant,
      original_text: t.Original ?? null,
      action: t.Action,
      mentioned_items: t.Mentioned_item,
      images: t.Image,
    })),
    mentioned_items: r.Mentioned_items,
    review: {
      pass: r.Review.Pass,
      content_quality: r.Review.Content_quality,
      logical_fluency: r.Review.Logical_fluency,
      user_consistency: r.Review.User_consistency,
      total: r.Review.Total,
      fits_context: r.Review.Fits_context,
    },
    provenance: {
      profile: prov(r.Provenance?.Profile),
      conversation: prov(r.Provenance?.Conversation),
      rewrite: prov(r.Provenance?.Rewrite),
      review: prov(r.Provenance?.Review),
    },
    provider: r.Provider,
    simulated: r.Simulated,
  };
}

/**
 * The Hugging Face layout: data/<split>-0000k-of-0000N.parquet per split, items.parquet, and a README.md
 * dataset card whose YAML front matter the Hub reads (configs, features, splits), plus summary.json.
 */
export async function writeHfFormat(
  ds: Dataset,
  dir: string,
  splits: Map<string, Split>,
  o: { ratios: readonly number[]; seed: number; license: string },
): Promise<Record<Split, number>> {
  const bySplit = Object.fromEntries(SPLITS.map((s) => [s, [] as ConversationRecord[]])) as Record<
    Split,
    ConversationRecord[]
  >;
  for (const r of ds.records) bySplit[splits.get(r.Conversation_id)!].push(r);
  const sizes = Object.fromEntries(SPLITS.map((s) => [s, bySplit[s].length])) as Record<Split, number>;
  for (const split of SPLITS) {
    const rows = bySplit[split];
    const shards = Math.ceil(rows.length / SHARD_ROWS);
    for (let k = 0; k < shards; k++)
      await writeParquet(
        path.join(dir, shardName(split, k, shards)),
        CONVERSATION_COLUMNS,
        rows.slice(k * SHARD_ROWS, (k + 1) * SHARD_ROWS).map(conversationRow),
      );
  }
  await writeParquet(
    path.join(dir, 'items.parquet'),
    ITEM_COLUMNS,
    ds.items.map((it) => ({
      ...it,
      details: JSON.stringify(it.details),
      image: it.image ? { bytes: fs.readFileSync(ds.imageFile(it.image)), path: it.image } : null,
    })),
    // Small row groups for rows that hold images, as the Hub's viewer pages by row group.
    { rowGroupSize: 100 },
  );
  fs.writeFileSync(path.join(dir, 'README.md'), datasetCard(ds, { sizes, ...o }));
  return sizes;
}
