import type OpenAI from 'openai';
import { describeProblems } from '../schemas/problems';

/** What the online path (openai.ts) and the Batch API (batch.ts) both send and read: the chat-completions wire. */

export interface RoleEndpoint {
  baseURL?: string;
  apiKey: string;
  model: string;
  /** Where the key came from (an environment variable's name), for the message when it is refused. */
  keySource?: string;
  /** Overrides the prompts' temperatures for this role. */
  temperature?: number;
}

export type ImageRef = { sha256: string | null; path: string | null; url: string | null };

/** Rough size of a request before it is sent: 4 characters a token, 85 a low-detail image, room for the reply. */
export function estimateTokens(messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[]): number {
  let chars = 0;
  let images = 0;
  for (const m of messages) {
    if (typeof m.content === 'string') chars += m.content.length;
    else
      for (const p of m.content ?? []) {
        if (p.type === 'text') chars += p.text.length;
        else images++;
      }
  }
  return Math.ceil(chars / 4) + images * 85 + 300;
}

export type Parsed = { ok: true; value: unknown } | { ok: false; problem: string };
export function parseReply(raw: string, schema: import('zod').ZodType): Parsed {
  // Endpoints without structured output sometimes wrap the JSON in a code fence.
  const text = raw
    .trim()
    .replace(/^```(?:json)?\s*/i, '')
    .replace(/\s*```$/, '');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, problem: `it is not JSON (${raw.slice(0, 80)}${raw.length > 80 ? '…' : ''})` };
  }
  const r = schema.safeParse(json);
  return r.success ? { ok: true, value: r.data } : { ok: false, problem: describeProblems(r.error, 'reply') };
}
