import { PUBLISHED_MUSE } from '../metrics/published';
import { IMAGE_OPENING_PROBABILITY, MAX_ROUND } from '../method/index';
import { MAX_BLEU } from '../profiles/dedup';
import type { Dataset } from './records';
import { describeCounts } from './records';
import { hfYamlFeatures } from './parquet';
import { CONVERSATION_COLUMNS, ITEM_COLUMNS, shardName } from './hf-columns';
import { SPLITS, type Split } from './splits';

/** A small YAML writer for the card's front matter: maps, lists and scalars (strings quoted when YAML would misread them). */
function yaml(v: unknown, indent = ''): string {
  const scalar = (x: unknown) =>
    typeof x === 'string' && !/^[A-Za-z_][\w .<>/*-]*$/.test(x) ? JSON.stringify(x) : String(x);
  if (Array.isArray(v))
    return v
      .map((x) => {
        if (x !== null && typeof x === 'object') {
          const body = yaml(x, `${indent}  `);
          return `${indent}- ${body.slice(indent.length + 2)}`;
        }
        return `${indent}- ${scalar(x)}`;
      })
      .join('\n');
  return Object.entries(v as Record<string, unknown>)
    .map(([k, x]) =>
      x !== null && typeof x === 'object' ? `${indent}${k}:\n${yaml(x, `${indent}  `)}` : `${indent}${k}: ${scalar(x)}`,
    )
    .join('\n');
}

const sizeCategory = (n: number) =>
  n < 1e3 ? 'n<1K' : n < 1e4 ? '1K<n<10K' : n < 1e5 ? '10K<n<100K' : n < 1e6 ? '100K<n<1M' : '1M<n<10M';

const pct = (n: number, of: number) => (of ? `${((100 * n) / of).toFixed(1)} %` : '–');

/** The figures of the exported conversations, beside the published Muse where the paper gives one. */
function statsTable(ds: Dataset): string {
  const rs = ds.records;
  const utts = rs.reduce((n, r) => n + r.Conversations.length, 0);
  const rows: Array<[string, string, string]> = [
    ['conversations', rs.length.toLocaleString('en'), PUBLISHED_MUSE.conversations.toLocaleString('en')],
    ['utterances', utts.toLocaleString('en'), PUBLISHED_MUSE.utterances.toLocaleString('en')],
    ['utterances per conversation', (utts / rs.length).toFixed(2), PUBLISHED_MUSE.utterancesPerConversation.toFixed(2)],
    ['image openings', pct(rs.filter((r) => r.Opening === 'image').length, rs.length), ''],
    ['target found by retrieval', pct(rs.filter((r) => r.Target_reached_by === 'retrieval').length, rs.length), ''],
    ['mean review total (0–6)', (rs.reduce((n, r) => n + r.Review.Total, 0) / rs.length).toFixed(2), ''],
    ['items referred to', ds.items.length.toLocaleString('en'), ''],
  ];
  return [
    '| | this dataset | published Muse |',
    '| --- | --- | --- |',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

function generationSection(ds: Dataset): string {
  const g = ds.generation;
  if (!g) return 'This dataset was converted from an export that did not record how it was generated.';
  const agents = g.agents.length
    ? [
        '| agent | role | model | prompt version | calls |',
        '| --- | --- | --- | --- | --- |',
        ...g.agents.map((a) => `| ${a.agent} | ${a.role} | ${a.model} | ${a.promptVersion} | ${a.calls} |`),
      ].join('\n')
    : g.provider === 'simulated'
      ? "Every agent call was answered by the **simulated provider**: an offline, deterministic stand-in that writes from the items' attributes. No language model wrote any of it; every record says `simulated: true`. Use it to test pipelines, not to train models."
      : 'The ledger holds no answered call for this batch.';
  const money = g.costUsd === null ? 'unpriced (a model without a price in the config)' : `$${g.costUsd.toFixed(4)}`;
  return [
    `- **Provider:** ${g.provider}.`,
    `- **Seeds:** batch seed ${g.batchSeed}; stage-2 profile seed(s) ${g.profileSeeds.join(', ') || '–'}. Every random choice of the method is drawn from these, so the same seeds and models reproduce the same conversations.`,
    `- **Thresholds:** kept when the review total is at least ${ds.counts.thresholds.minScore} of 6${ds.counts.thresholds.requireScreener ? ' and the recommendation screener said yes' : ''}. Stage-2 backstories closer than sentence-BLEU ${MAX_BLEU} to an accepted one were dropped.`,
    `- **Method constants:** image opening tried with probability ${IMAGE_OPENING_PROBABILITY}; the target is forced after ${MAX_ROUND.text} recommendation rounds (${MAX_ROUND.image} after an image opening).`,
    g.provider === 'simulated'
      ? '- **Tokens and cost:** none; no model was called.'
      : `- **Tokens and cost:** ${g.inputTokens.toLocaleString('en')} input and ${g.outputTokens.toLocaleString('en')} output tokens; ${money}.`,
    '',
    '**Models and prompts, by agent:**',
    '',
    agents,
  ].join('\n');
}

/**
 * The dataset card: the YAML front matter the Hub reads (configs with data_files per split, features,
 * license, task categories, language, size, pretty name), then how the data was made and what was dropped.
 */
export function datasetCard(
  ds: Dataset,
  o: { sizes: Record<Split, number>; ratios: readonly number[]; seed: number; license: string },
): string {
  const present = SPLITS.filter((s) => o.sizes[s] > 0);
  const shards = (s: Split) => Math.ceil(o.sizes[s] / 5_000);
  const front = {
    pretty_name: `muse ${ds.batchId}`,
    license: o.license,
    ...(o.license === 'other' ? { license_name: 'unspecified', license_link: 'LICENSE' } : {}),
    language: ['en'],
    task_categories: ['image-text-to-text', 'text-generation'],
    tags: ['conversational-recommendation', 'multimodal', 'synthetic', 'fashion', 'muse'],
    size_categories: [sizeCategory(ds.records.length)],
    configs: [
      {
        config_name: 'default',
        default: true,
        data_files: present.map((s) => ({ split: s, path: `data/${s}-*.parquet` })),
      },
      { config_name: 'items', data_files: [{ split: 'train', path: 'items.parquet' }] },
    ],
    dataset_info: [
      {
        config_name: 'default',
        features: hfYamlFeatures(CONVERSATION_COLUMNS),
        splits: present.map((s) => ({ name: s, num_examples: o.sizes[s] })),
      },
      {
        config_name: 'items',
        features: hfYamlFeatures(ITEM_COLUMNS),
        splits: [{ name: 'train', num_examples: ds.items.length }],
      },
    ],
  };
  const ratio = o.ratios.map((r) => Math.round(r * 100)).join('/');
  const simulated = ds.generation?.provider === 'simulated' || ds.records.some((r) => r.Simulated);
  return `---
${yaml(front)}
---

# muse ${ds.batchId}

Multimodal conversational-recommendation dialogues in the clothing domain, generated by
muse with the method of *Muse: A Multimodal Conversational Recommendation Dataset
with Scenario-Grounded User Profiles* (Findings of ACL 2025): a scenario-grounded user profile, a user
agent and a recommender agent that talk and look at product images, then a rewrite and review pass.
${simulated ? "\n> **Simulated.** These conversations were written by muse's offline simulated provider, not by a language model.\n" : ''}
## Contents

| split | conversations | files |
| --- | --- | --- |
${present.map((s) => `| ${s} | ${o.sizes[s]} | ${Array.from({ length: shards(s) }, (_, k) => `\`${shardName(s, k, shards(s))}\``).join(', ')} |`).join('\n')}
| items | ${ds.items.length} | \`items.parquet\` |

- **Splits:** ${ratio} (train/validation/test), drawn with seed ${o.seed} and stratified by target category and
  scenario group, so each split holds the same mix. The fine-tuning exports (\`--format openai-ft\`, \`llava\`)
  use the same split, so a model is never trained on its own test rows.
- **One row per conversation.** \`utterances\` is a list of {speaker, text, original_text, action,
  mentioned_items, images}; \`original_text\` is stage 3's text where stage 4's accepted rewrite replaced it.
  Persona, scenario (the backstory), requirement, target, opening, outcome, review scores and the
  provider and models of every stage are columns of their own.
- **Images** are stored once per item, as a Hugging Face \`Image\` (bytes and path) in \`items.parquet\`.
  An utterance names its images by that path (\`images/<item>.<ext>\`): an image appears in many
  conversations, so the bytes are kept once, and the files stay self-contained Parquet with no absolute paths.
- **Items:** every item a conversation names (target and mentioned items), with title, caption,
  description, features, categories, price, store, details (JSON text) and image, so ids resolve offline.

## Load it

\`\`\`python
from datasets import load_dataset
ds = load_dataset("parquet", data_files={"train": "data/train-*.parquet", "validation": "data/validation-*.parquet", "test": "data/test-*.parquet"})
items = load_dataset("parquet", data_files="items.parquet", split="train")
\`\`\`

\`\`\`sql
-- DuckDB: each utterance beside the images it shows
SELECT c.conversation_id, u.speaker, u.text, i.title, i.image.path
FROM 'data/train-*.parquet' c, unnest(c.utterances) AS t(u), unnest(u.images) AS m(img)
JOIN 'items.parquet' i ON i.image.path = img;
\`\`\`

## How it was generated

${generationSection(ds)}

## Figures

${statsTable(ds)}

## What was dropped

${describeCounts(ds.counts).replace(/^k/, 'K')}. Conversations not completed or not reviewed by stage 4 are never exported.

## Citation

\`\`\`bibtex
@inproceedings{wang2025muse,
  title     = {Muse: A Multimodal Conversational Recommendation Dataset with Scenario-Grounded User Profiles},
  author    = {Wang and Yang and Liu and Feng and Wang and Zhang},
  booktitle = {Findings of the Association for Computational Linguistics: ACL 2025},
  year      = {2025},
  eprint    = {2412.18416},
  archivePrefix = {arXiv}
}
\`\`\`

(Surnames as the paper lists them; see arXiv:2412.18416 for the full author names.)
`;
}
