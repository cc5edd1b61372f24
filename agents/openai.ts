import { activityContext, classify, linked, retryAfterMs, whileBeating } from './transport';
import { FailureType } from '../schemas/failures';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import sharp from 'sharp';
import { ApplicationFailure } from '@temporalio/common';
import { imageAbsolutePath } from '../catalog/images';
import { PROMPTS } from '../prompts';
import { imagesOf, type Picture, type Role } from '../prompts/prompt';
import { type CallContext, type Mllm } from './calls';
import { type AgentInput, type AgentName, type AgentOutput } from '../schemas/agent-calls';
import type { LedgerRow } from '../db/ledger';
import { Ledger } from './ledger';
import { RateLimiter, waitFor } from './rate-limit';
import type { Pool } from '../db/pool';
import { loadLlmConfig, resolveRoles, ROLES } from './config';
import { costUsd, priceTable, type PriceTable } from './prices';
import { BatchApi, type StartCollector } from './batch';
import { estimateTokens, parseReply, type ImageRef, type RoleEndpoint } from './wire';
import { BATCH_ROLES, BatchSettings } from './config';

export interface OpenAiOptions {
  /** Records every call and answers repeated ones; without it every call is sent. */
  ledger?: Ledger;
  imageDetail?: 'low' | 'high' | 'auto';
  /** Images larger than this (px, longest side) are downscaled before they are sent. */
  maxImageSide?: number;
  /** How many replies of one attempt may fail validation before the attempt fails. */
  maxAsks?: number;
  prices?: PriceTable;
  /** A request that has not answered by then fails its attempt (Temporal retries it). */
  timeoutMs?: number;
  /** Requests and tokens per minute per model, shared by every worker. */
  limiter?: RateLimiter;
  /** How long one call keeps waiting out 429s (back-pressure, not failures) before its attempt fails. */
  rateLimitPatienceMs?: number;
  /** The Batch API's queue and provider batches live here; without it no call can go through a batch. */
  pool?: Pool;
  batch?: BatchSettings;
  /** Starts a run's collector when a call is queued for the Batch API (the worker's; see activities/collector.ts). */
  startCollector?: StartCollector;
}

/** How replies are made to be JSON, best first; an endpoint that refuses one gets the next. */
const MODES = ['json_schema', 'json_object', 'text'] as const;
type Mode = (typeof MODES)[number];

/**
 * Any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, Ollama, LM Studio). Retries are
 * Temporal's, so the client's own are off: 408/409/429/5xx and network errors fail the attempt
 * (with Retry-After as the next delay), any other 4xx fails the activity for good.
 */
export class OpenAiMllm implements Mllm {
  readonly provider = 'openai' as const;
  private readonly clients = new Map<Role, OpenAI>();
  private readonly modes = new Map<string, Mode>();
  private readonly o: Required<Omit<OpenAiOptions, 'ledger' | 'limiter' | 'pool' | 'startCollector'>> &
    Pick<OpenAiOptions, 'ledger' | 'limiter' | 'pool' | 'startCollector'>;
  /** The provider's Batch API for the calls that need no answer at once (see agents/batch.ts). */
  readonly batches: BatchApi;

  constructor(
    private readonly endpoints: Record<Role, RoleEndpoint>,
    options: OpenAiOptions = {},
  ) {
    this.o = {
      imageDetail: 'low',
      maxImageSide: 1024,
      maxAsks: 3,
      prices: priceTable(),
      timeoutMs: 120_000,
      rateLimitPatienceMs: 15 * 60_000,
      batch: BatchSettings.parse({}),
      ...options,
    };
    for (const role of ROLES) {
      const e = endpoints[role];
      this.clients.set(
        role,
        new OpenAI({ baseURL: e.baseURL, apiKey: e.apiKey, maxRetries: 0, timeout: this.o.timeoutMs }),
      );
    }
    this.batches = new BatchApi({
      endpoints,
      clients: this.clients,
      pool: this.o.pool,
      prices: this.o.prices,
      settings: this.o.batch,
      image: (ref) => this.imagePart(ref),
      startCollector: this.o.startCollector,
    });
  }

  /** From muse.config.json (or MUSE_CONFIG) and the environment: see `muse config`. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env, pool?: Pool, startCollector?: StartCollector): OpenAiMllm {
    const { config } = loadLlmConfig(env);
    const roles = resolveRoles(config, env);
    const endpoints = Object.fromEntries(
      ROLES.map((role) => {
        const r = roles[role];
        if (!r.apiKey)
          throw ApplicationFailure.nonRetryable(
            `the openai provider needs a key for the ${role} role in ${r.apiKeySource} (any value for a local server)`,
            FailureType.Configuration,
          );
        return [
          role,
          {
            baseURL: r.baseURL,
            apiKey: r.apiKey,
            keySource: r.apiKeySource,
            model: r.model,
            temperature: r.temperature,
          },
        ];
      }),
    ) as Record<Role, RoleEndpoint>;
    return new OpenAiMllm(endpoints, {
      ledger: pool && new Ledger(pool),
      pool,
      batch: config.batch,
      limiter: pool && new RateLimiter(pool, config.rateLimits),
      imageDetail: config.imageDetail,
      maxImageSide: config.maxImageSide,
      maxAsks: config.maxAsks,
      timeoutMs: config.timeoutMs,
      rateLimitPatienceMs: config.rateLimitPatienceMs,
      prices: priceTable(config.prices),
      startCollector,
    });
  }

  async call<A extends AgentName>(agent: A, input: AgentInput<A>, ctx: CallContext): Promise<AgentOutput<A>> {
    const prompt = PROMPTS[agent];
    const schema = prompt.output;
    const endpoint = this.endpoints[prompt.role];
    const format = zodResponseFormat(schema, agent);
    const images = imagesOf(prompt, input).map(imageRef);
    const userText = prompt.user(input);
    const activity = activityContext();
    const temperature = endpoint.temperature ?? prompt.temperature;
    const contentHash = sha256(
      JSON.stringify({
        model: endpoint.model,
        baseURL: endpoint.baseURL ?? null,
        temperature,
        version: prompt.version,
        system: prompt.system,
        user: userText,
        images: images.map((i) => [i.sha256, i.url]),
        detail: this.o.imageDetail,
        maxSide: this.o.maxImageSide,
        schema: format.json_schema,
      }),
    );
    const batchId = ctx.batchId ?? (ctx.conversationId ? await this.o.ledger?.batchOf(ctx.conversationId) : undefined);
    const base: Omit<LedgerRow, 'status' | 'ask' | 'latencyMs'> = {
      contentHash,
      conversationId: ctx.conversationId,
      batchId,
      callKey: ctx.key,
      agent,
      role: prompt.role,
      baseUrl: endpoint.baseURL,
      model: endpoint.model,
      promptVersion: prompt.version,
      attempt: activity?.info.attempt,
    };

    const stored = await this.o.ledger?.answered(contentHash);
    if (stored !== undefined) {
      const hit = schema.safeParse(stored);
      if (hit.success) {
        await this.o.ledger!.record({ ...base, status: 'cached', ask: 0, latencyMs: 0, costUsd: 0, output: stored });
        return hit.data as AgentOutput<A>;
      }
    }

    const modeKey = `${endpoint.baseURL}|${endpoint.model}`;
    if (ctx.batchRoles?.includes(prompt.role) && BATCH_ROLES.includes(prompt.role)) {
      // The Batch API: the same request, queued for a provider batch; the answer comes back through the ledger.
      const mode = this.modes.get(modeKey) ?? 'json_schema';
      const body = {
        model: endpoint.model,
        temperature,
        messages: [
          { role: 'system', content: systemFor(prompt.system, mode, format.json_schema.schema) },
          { role: 'user', content: [{ type: 'text', text: userText }, ...images.map(imageByReference)] },
        ],
        ...responseFormat(mode, format),
      };
      const answer = await this.batches.ask({ base, body, agent, activity });
      const valid = schema.safeParse(answer);
      if (!valid.success) throw new Error(`${agent}: the stored batch answer no longer fits its schema`);
      await this.o.ledger?.record({ ...base, status: 'cached', ask: 0, latencyMs: 0, costUsd: 0, output: answer });
      return valid.data as AgentOutput<A>;
    }

    const imageParts = await Promise.all(images.map((i) => this.imagePart(i)));
    const conversation: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [
      { role: 'user', content: [{ type: 'text', text: userText }, ...imageParts] },
    ];
    let lastProblem = '';
    const firstSent = Date.now();
    for (let ask = 1; ask <= this.o.maxAsks;) {
      const mode = this.modes.get(modeKey) ?? 'json_schema';
      const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [
        { role: 'system', content: systemFor(prompt.system, mode, format.json_schema.schema) },
        ...conversation,
      ];
      const estimate = estimateTokens(messages);
      // Cache hits above are free; every request sent, a re-ask included, must fit the batch's budget.
      await this.o.ledger?.checkBudget(batchId);
      await this.o.limiter?.acquire(
        endpoint.model,
        estimate,
        () => activity?.heartbeat(),
        activity?.cancellationSignal,
      );
      const t0 = Date.now();
      let completion: OpenAI.Chat.Completions.ChatCompletion;
      try {
        const { data, response } = await whileBeating(activity, () =>
          linked(activity?.cancellationSignal, (signal) =>
            this.clients
              .get(prompt.role)!
              .chat.completions.create(
                {
                  model: endpoint.model,
                  temperature,
                  messages,
                  ...responseFormat(mode, format),
                },
                { signal },
              )
              .withResponse(),
          ),
        );
        completion = data;
        await this.o.limiter?.observe(endpoint.model, response.headers);
      } catch (e) {
        const status = e instanceof OpenAI.APIError ? e.status : undefined;
        await this.o.ledger?.record({
          ...base,
          ask,
          status: status ? 'http_error' : 'network_error',
          httpStatus: status,
          error: String((e as Error).message ?? e),
          responseMode: mode,
          latencyMs: Date.now() - t0,
        });
        if (
          status === 400 &&
          mode !== 'text' &&
          /response_format|json_schema|json_object|structured/i.test(String((e as Error).message))
        ) {
          this.modes.set(modeKey, MODES[MODES.indexOf(mode) + 1]);
          continue; // the endpoint refused this way of asking for JSON: ask the next way, same ask
        }
        // A 429 is back-pressure: the shared pace slows and this call waits its turn again, for as long as
        // its patience lasts, without spending one of Temporal's attempts.
        if (status === 429 && this.o.limiter && Date.now() - firstSent < this.o.rateLimitPatienceMs) {
          await this.o.limiter.throttled(endpoint.model);
          const after = retryAfterMs(e as InstanceType<typeof OpenAI.APIError>) ?? 1_000;
          await waitFor(after, () => activity?.heartbeat(), activity?.cancellationSignal);
          continue;
        }
        throw classify(e, agent, endpoint);
      }
      const latencyMs = Date.now() - t0;
      const raw = completion.choices[0]?.message?.content ?? '';
      const usage = { inputTokens: completion.usage?.prompt_tokens, outputTokens: completion.usage?.completion_tokens };
      const cost = costUsd(this.o.prices, endpoint.model, usage.inputTokens, usage.outputTokens);
      await this.o.limiter?.settle(
        endpoint.model,
        estimate,
        usage.inputTokens === undefined ? undefined : usage.inputTokens + (usage.outputTokens ?? 0),
      );
      const parsed = parseReply(raw, schema);
      if (parsed.ok) {
        await this.o.ledger?.record({
          ...base,
          ask,
          status: 'ok',
          responseMode: mode,
          latencyMs,
          ...usage,
          costUsd: cost,
          rawReply: raw,
          output: parsed.value,
        });
        return parsed.value as AgentOutput<A>;
      }
      lastProblem = parsed.problem;
      await this.o.ledger?.record({
        ...base,
        ask,
        status: 'invalid',
        error: parsed.problem,
        responseMode: mode,
        latencyMs,
        ...usage,
        costUsd: cost,
        rawReply: raw,
      });
      // Ask again in the same conversation, saying what was wrong with the reply.
      conversation.push(
        { role: 'assistant', content: raw },
        {
          role: 'user',
          content: `That reply cannot be used: ${parsed.problem}. Answer again with only the JSON object the instructions describe.`,
        },
      );
      ask++;
    }
    throw new Error(`${agent}: ${this.o.maxAsks} replies in a row failed validation; the last: ${lastProblem}`);
  }

  /**
   * The image's http(s) URL when the catalog has one; otherwise its bytes, read here inside the activity
   * from the image store (they never enter a workflow payload) and downscaled when large.
   */
  async imagePart(ref: ImageRef): Promise<OpenAI.Chat.Completions.ChatCompletionContentPartImage> {
    if (ref.url) return { type: 'image_url', image_url: { url: ref.url, detail: this.o.imageDetail } };
    let bytes: Buffer = fs.readFileSync(imageAbsolutePath(ref.path!));
    const img = sharp(bytes);
    const meta = await img.metadata();
    if (Math.max(meta.width ?? 0, meta.height ?? 0) > this.o.maxImageSide) {
      bytes = await img.resize({ width: this.o.maxImageSide, height: this.o.maxImageSide, fit: 'inside' }).toBuffer();
    }
    const mime = meta.format === 'jpeg' ? 'image/jpeg' : `image/${meta.format}`;
    return {
      type: 'image_url',
      image_url: { url: `data:${mime};base64,${bytes.toString('base64')}`, detail: this.o.imageDetail },
    };
  }
}

/** How a reply is asked to be JSON in one mode. */
const responseFormat = (mode: Mode, format: ReturnType<typeof zodResponseFormat>) =>
  mode === 'json_schema'
    ? { response_format: format }
    : mode === 'json_object'
      ? { response_format: { type: 'json_object' as const } }
      : {};

/** An image part as a queued batch request keeps it: by reference, its bytes read when the request file is written. */
const imageByReference = (ref: ImageRef) => ({ type: 'image_url' as const, image_url: ref });

function imageRef(p: Picture): ImageRef {
  if (!p.url && (!p.path || !p.sha256))
    throw ApplicationFailure.nonRetryable(
      `item ${p.label} has no image, but this agent must see it`,
      FailureType.MissingImage,
    );
  return { sha256: p.sha256, path: p.path, url: p.url };
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function systemFor(system: string, mode: Mode, schema: unknown): string {
  if (mode === 'json_schema') return system;
  return `${system}\nReply with one JSON object only, no other text, that fits this JSON schema:\n${JSON.stringify(schema)}`;
}
