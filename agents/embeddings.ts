import { FailureType } from '../schemas/failures';
import OpenAI from 'openai';
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from '../db/pool';
import { loadLlmConfig, resolveEmbeddings } from './config';
import { activityContext, classify, linked, whileBeating } from './transport';
import { RateLimiter } from './rate-limit';
import { normalise, type Embedder } from './embedder';

export interface EmbeddingEndpoint {
  baseURL?: string;
  apiKey: string;
  /** The environment variable the key came from, named when the endpoint refuses it. */
  keySource?: string;
  model: string;
  dimensions?: number;
  batchSize: number;
}

/**
 * Any OpenAI-compatible /v1/embeddings endpoint. As with chat calls, retries are Temporal's: the
 * client's are off, and 4xx other than 408/409/429 fail for good (see classify).
 */
export class OpenAiEmbedder implements Embedder {
  readonly model: string;
  readonly batchSize: number;
  private readonly client: OpenAI;

  constructor(
    private readonly endpoint: EmbeddingEndpoint,
    private readonly o: { timeoutMs?: number; limiter?: RateLimiter } = {},
  ) {
    this.client = new OpenAI({
      baseURL: endpoint.baseURL,
      apiKey: endpoint.apiKey,
      maxRetries: 0,
      timeout: o.timeoutMs ?? 120_000,
    });
    this.model = endpoint.dimensions ? `${endpoint.model}@${endpoint.dimensions}` : endpoint.model;
    this.batchSize = endpoint.batchSize;
  }

  /** From muse.config.json's `embeddings` (or MUSE_EMBEDDING_MODEL); undefined when none is configured. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env, pool?: Pool): OpenAiEmbedder | undefined {
    const { config } = loadLlmConfig(env);
    const e = resolveEmbeddings(config, env);
    if (!e) return undefined;
    if (!e.apiKey)
      throw ApplicationFailure.nonRetryable(
        `the embedding endpoint needs a key in ${e.apiKeySource} (any value for a local server)`,
        FailureType.Configuration,
      );
    return new OpenAiEmbedder(
      { ...e, apiKey: e.apiKey, keySource: e.apiKeySource },
      { timeoutMs: config.timeoutMs, limiter: pool && new RateLimiter(pool, config.rateLimits) },
    );
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (!texts.length) return [];
    const activity = activityContext();
    // About 4 characters a token: what the model's rate limit is charged before the reply says.
    const estimate = Math.ceil(texts.reduce((n, t) => n + t.length, 0) / 4);
    await this.o.limiter?.acquire(
      this.endpoint.model,
      estimate,
      () => activity?.heartbeat(),
      activity?.cancellationSignal,
    );
    let reply: OpenAI.CreateEmbeddingResponse;
    try {
      reply = await whileBeating(activity, () =>
        linked(activity?.cancellationSignal, (signal) =>
          this.client.embeddings.create(
            {
              model: this.endpoint.model,
              input: [...texts],
              encoding_format: 'float',
              ...(this.endpoint.dimensions ? { dimensions: this.endpoint.dimensions } : {}),
            },
            { signal },
          ),
        ),
      );
    } catch (e) {
      throw classify(e, 'embeddings', this.endpoint);
    }
    await this.o.limiter?.settle(this.endpoint.model, estimate, reply.usage?.total_tokens);
    const rows = [...reply.data].sort((a, b) => a.index - b.index);
    const where = `embeddings on ${this.endpoint.baseURL ?? 'api.openai.com'} (model ${this.endpoint.model})`;
    if (rows.length !== texts.length)
      throw new Error(`${where}: asked for ${texts.length} vectors, got ${rows.length}`);
    const dims = rows[0].embedding.length;
    if (!dims || rows.some((r) => r.embedding.length !== dims))
      throw new Error(`${where}: vectors of different lengths in one reply`);
    return rows.map((r) => normalise(Float32Array.from(r.embedding)));
  }
}
