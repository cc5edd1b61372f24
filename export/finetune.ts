import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { FINETUNE_SYSTEM } from '../prompts/finetune-system';
import type { ConversationRecord, RecordTurn } from '../schemas/record';
import type { Dataset } from './records';
import { SPLITS, type Split } from './splits';
import { copyImages } from './muse-format';

/** What the fine-tuning formats write at the top of their folders. */
export const OPENAI_FT_ENTRIES = ['train.jsonl', 'validation.jsonl', 'test.jsonl', 'summary.json'];
export const LLAVA_ENTRIES = ['train.json', 'validation.json', 'test.json', 'images', 'summary.json'];

// OpenAI's chat fine-tuning format with images (platform docs, "Vision fine-tuning"): a line is
// {"messages": [...]}; images are image_url parts of user messages only, as an https URL or a base64
// data URL of a PNG, JPEG or WEBP; at most 64 images per example; the last message is the assistant's.
const TextPart = z.strictObject({ type: z.literal('text'), text: z.string().min(1) });
const ImagePart = z.strictObject({
  type: z.literal('image_url'),
  image_url: z.strictObject({
    url: z.string().regex(/^(https:\/\/|data:image\/(png|jpeg|webp);base64,)/),
    detail: z.enum(['low', 'high', 'auto']).optional(),
  }),
});
const Message = z.discriminatedUnion('role', [
  z.strictObject({ role: z.literal('system'), content: z.string().min(1) }),
  z.strictObject({
    role: z.literal('user'),
    content: z.union([z.string().min(1), z.array(z.union([TextPart, ImagePart])).min(1)]),
  }),
  z.strictObject({
    role: z.literal('assistant'),
    content: z.string().min(1),
    weight: z.union([z.literal(0), z.literal(1)]).optional(),
  }),
]);
export const OpenAiFtExample = z
  .strictObject({ messages: z.array(Message).min(2) })
  .refine((e) => e.messages.at(-1)!.role === 'assistant', "the last message must be the assistant's")
  .refine(
    (e) =>
      e.messages.flatMap((m) => (Array.isArray(m.content) ? m.content : [])).filter((p) => p.type === 'image_url')
        .length <= 64,
    'at most 64 images per example',
  );
export type OpenAiFtExample = z.infer<typeof OpenAiFtExample>;

/** LLaVA's (and Qwen2-VL fine-tuning scripts') ShareGPT-style example: one `<image>` token per image, in human turns. */
export const LlavaExample = z
  .strictObject({
    id: z.string(),
    image: z.union([z.string(), z.array(z.string()).min(2)]).optional(),
    conversations: z.array(z.strictObject({ from: z.enum(['human', 'gpt']), value: z.string().min(1) })).min(2),
  })
  .refine((e) => e.conversations.every((c, i) => c.from === (i % 2 ? 'gpt' : 'human')), 'turns alternate human, gpt')
  .refine((e) => e.conversations.at(-1)!.from === 'gpt', "the last turn is gpt's")
  .refine(
    (e) =>
      e.conversations.reduce((n, c) => n + (c.value.match(/<image>/g)?.length ?? 0), 0) ===
      (e.image === undefined ? 0 : typeof e.image === 'string' ? 1 : e.image.length),
    'one <image> token per image',
  );
export type LlavaExample = z.infer<typeof LlavaExample>;

const textOf = (t: RecordTurn) => ('User' in t ? t.User : t.Assistant);

/**
 * The dialogue before each recommender turn, as (role, text, images) steps. A model can only be shown
 * images in the shopper's turns, so the images the recommender showed travel with the next user turn,
 * labelled as such: the model sees what it showed, and learns to write the turn that follows.
 */
function examplesOf(r: ConversationRecord) {
  const out: Array<{
    k: number;
    history: Array<{ role: 'user' | 'assistant'; text: string; images: string[] }>;
    answer: string;
  }> = [];
  const history: Array<{ role: 'user' | 'assistant'; text: string; images: string[] }> = [];
  let shown: string[] = [];
  r.Conversations.forEach((t, k) => {
    if ('Assistant' in t) {
      // The greeting before the shopper has said anything teaches nothing: no example for it.
      if (history.some((h) => h.role === 'user'))
        out.push({ k, history: history.map((h) => ({ ...h, images: [...h.images] })), answer: t.Assistant });
      history.push({ role: 'assistant', text: t.Assistant, images: [] });
      shown = t.Image;
    } else {
      history.push({ role: 'user', text: textOf(t), images: [...shown.map((s) => `shown:${s}`), ...t.Image] });
      shown = [];
    }
  });
  return out;
}

/** OpenAI chat fine-tuning lines: one per recommender turn, images inline as data URLs; each line checked against the schema. */
export function openAiExamples(ds: Dataset, r: ConversationRecord): OpenAiFtExample[] {
  const dataUrl = (name: string) =>
    `data:image/${path.extname(name).slice(1).replace('jpg', 'jpeg')};base64,${fs.readFileSync(ds.imageFile(name)).toString('base64')}`;
  return examplesOf(r).map(({ history, answer }) =>
    OpenAiFtExample.parse({
      messages: [
        { role: 'system', content: FINETUNE_SYSTEM.text },
        ...history.map((h) => {
          if (h.role === 'assistant') return { role: 'assistant', content: h.text };
          const shown = h.images.filter((i) => i.startsWith('shown:')).map((i) => i.slice(6));
          const own = h.images.filter((i) => !i.startsWith('shown:'));
          if (shown.length + own.length === 0) return { role: 'user', content: h.text };
          return {
            role: 'user',
            content: [
              ...(shown.length ? [{ type: 'text', text: 'The products you showed:' }] : []),
              ...shown.map((i) => ({ type: 'image_url', image_url: { url: dataUrl(i) } })),
              { type: 'text', text: h.text },
              ...own.map((i) => ({ type: 'image_url', image_url: { url: dataUrl(i) } })),
            ],
          };
        }),
        { role: 'assistant', content: answer },
      ],
    }),
  );
}

/** LLaVA / ShareGPT examples: one per recommender turn; consecutive turns of one side are joined (the format alternates). */
export function llavaExamples(r: ConversationRecord): LlavaExample[] {
  return examplesOf(r).map(({ k, history, answer }) => {
    const turns: Array<{ from: 'human' | 'gpt'; value: string }> = [];
    const images: string[] = [];
    const say = (from: 'human' | 'gpt', value: string) => {
      const last = turns.at(-1);
      if (last?.from === from) last.value += `\n${value}`;
      else turns.push({ from, value });
    };
    // The system message leads the first human turn: LLaVA's format has no system role.
    say('human', FINETUNE_SYSTEM.text);
    for (const h of history) {
      if (h.role === 'assistant') {
        say('gpt', h.text);
        continue;
      }
      const shown = h.images.filter((i) => i.startsWith('shown:')).map((i) => i.slice(6));
      const own = h.images.filter((i) => !i.startsWith('shown:'));
      images.push(...shown, ...own);
      say(
        'human',
        [
          ...(shown.length ? [`The products you showed: ${shown.map(() => '<image>').join(' ')}`] : []),
          ...own.map(() => '<image>'),
          h.text,
        ].join('\n'),
      );
    }
    say('gpt', answer);
    return LlavaExample.parse({
      id: `${r.Conversation_id}-${k}`,
      ...(images.length === 0 ? {} : { image: images.length === 1 ? images[0] : images }),
      conversations: turns,
    });
  });
}

/** Writes <split>.jsonl (openai-ft) or <split>.json (llava, with images/) for every split that has rows. */
export async function writeFinetuneFormat(
  ds: Dataset,
  dir: string,
  format: 'openai-ft' | 'llava',
  splits: Map<string, Split>,
): Promise<Record<Split, number>> {
  const sizes = { train: 0, validation: 0, test: 0 };
  for (const split of SPLITS) {
    const records = ds.records.filter((r) => splits.get(r.Conversation_id) === split);
    if (records.length === 0) continue;
    if (format === 'openai-ft') {
      const file = fs.openSync(path.join(dir, `${split}.jsonl`), 'w');
      for (const r of records)
        for (const e of openAiExamples(ds, r)) {
          fs.writeSync(file, JSON.stringify(e) + '\n');
          sizes[split]++;
        }
      fs.closeSync(file);
    } else {
      const examples = records.flatMap(llavaExamples);
      sizes[split] = examples.length;
      fs.writeFileSync(path.join(dir, `${split}.json`), JSON.stringify(examples, null, 1) + '\n');
    }
  }
  if (format === 'llava') copyImages(ds, dir);
  return sizes;
}
