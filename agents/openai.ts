import fs from 'node:fs';
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { ApplicationFailure } from '@temporalio/common';
import { imageAbsolutePath } from '../catalog/images';
import { PROMPTS } from '../prompts';
import type { Role } from '../prompts/prompt';
import type { Item } from '../schemas/catalog';
import { AGENT_CALLS, type AgentInput, type AgentName, type AgentOutput, type CallContext, type Mllm } from './calls';

export interface RoleEndpoint {
  baseURL?: string;
  apiKey: string;
  model: string;
}

const ROLES: readonly Role[] = ['profile', 'manager', 'user', 'recommender'];

/** Status codes worth another attempt; every other 4xx means the request itself must change. */
const RETRYABLE = new Set([408, 409, 429]);

/**
 * Any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, Ollama, LM Studio). Retries are
 * Temporal's, so the client's own are off; a 4xx other than 408/409/429 fails the activity for good.
 */
export class OpenAiMllm implements Mllm {
  readonly provider = 'openai' as const;
  private readonly clients = new Map<Role, OpenAI>();

  constructor(private readonly endpoints: Record<Role, RoleEndpoint>, private readonly imageDetail: 'low' | 'high' | 'auto' = 'low') {
    for (const role of ROLES) {
      const e = endpoints[role];
      this.clients.set(role, new OpenAI({ baseURL: e.baseURL, apiKey: e.apiKey, maxRetries: 0, timeout: 120_000 }));
    }
  }

  /** OPENAI_BASE_URL / OPENAI_API_KEY / MUSE_MODEL, each overridable per role (e.g. MUSE_MODEL_USER). */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): OpenAiMllm {
    const pick = (name: string, role: Role) => env[`${name}_${role.toUpperCase()}`] ?? env[name];
    const endpoints = Object.fromEntries(ROLES.map((role) => {
      const apiKey = pick('MUSE_API_KEY', role) ?? env.OPENAI_API_KEY;
      if (!apiKey) throw ApplicationFailure.nonRetryable('the openai provider needs OPENAI_API_KEY (any value for a local server)', 'ConfigurationError');
      return [role, { baseURL: pick('MUSE_BASE_URL', role) ?? env.OPENAI_BASE_URL, apiKey, model: pick('MUSE_MODEL', role) ?? 'gpt-4o-mini' }];
    })) as Record<Role, RoleEndpoint>;
    const detail = env.MUSE_IMAGE_DETAIL ?? 'low';
    if (!['low', 'high', 'auto'].includes(detail)) throw new Error(`MUSE_IMAGE_DETAIL must be low, high or auto, not "${detail}"`);
    return new OpenAiMllm(endpoints, detail as 'low' | 'high' | 'auto');
  }

  async call<A extends AgentName>(agent: A, input: AgentInput<A>, _ctx: CallContext): Promise<AgentOutput<A>> {
    const prompt = PROMPTS[agent];
    const schema = AGENT_CALLS[agent].output;
    const images = prompt.images(input).map((it) => this.imagePart(it));
    const endpoint = this.endpoints[prompt.role];
    let completion;
    try {
      completion = await this.clients.get(prompt.role)!.chat.completions.create({
        model: endpoint.model,
        temperature: prompt.temperature,
        messages: [
          { role: 'system', content: prompt.system },
          { role: 'user', content: [{ type: 'text', text: prompt.user(input) }, ...images] },
        ],
        response_format: zodResponseFormat(schema, agent),
      });
    } catch (e) {
      throw classify(e, agent, endpoint);
    }
    const content = completion.choices[0]?.message?.content ?? '';
    let json: unknown;
    try {
      json = JSON.parse(content);
    } catch {
      throw new Error(`${agent}: the model's reply is not JSON: ${content.slice(0, 200)}`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new Error(`${agent}: the model's reply does not fit the schema: ${parsed.error.message}`);
    return parsed.data as AgentOutput<A>;
  }

  /** Image bytes are read here, inside the activity, from the image store; they never enter a workflow payload. */
  private imagePart(it: Item): OpenAI.Chat.Completions.ChatCompletionContentPartImage {
    if (!it.imagePath) throw ApplicationFailure.nonRetryable(`item ${it.id} has no image, but this agent must see it`, 'MissingImage');
    const mime = it.imagePath.endsWith('.png') ? 'image/png' : it.imagePath.endsWith('.webp') ? 'image/webp' : 'image/jpeg';
    const data = fs.readFileSync(imageAbsolutePath(it.imagePath)).toString('base64');
    return { type: 'image_url', image_url: { url: `data:${mime};base64,${data}`, detail: this.imageDetail } };
  }
}

function classify(e: unknown, agent: string, endpoint: RoleEndpoint): Error {
  if (e instanceof OpenAI.APIError && typeof e.status === 'number') {
    const where = `${agent} on ${endpoint.baseURL ?? 'api.openai.com'} (model ${endpoint.model})`;
    if (RETRYABLE.has(e.status) || e.status >= 500) return new Error(`${where}: HTTP ${e.status}: ${e.message}`);
    const hint = e.status === 401 ? 'check OPENAI_API_KEY' : e.status === 404 ? 'check the model name and OPENAI_BASE_URL' : 'the request was refused; fix it before retrying';
    return ApplicationFailure.nonRetryable(`${where}: HTTP ${e.status}: ${e.message} (${hint})`, `Http${e.status}`);
  }
  return e instanceof Error ? e : new Error(String(e));
}
