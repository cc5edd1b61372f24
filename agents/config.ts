import fs from 'node:fs';
import { describeProblems } from '../schemas/problems';
import path from 'node:path';
import { z } from 'zod';
import type { Role } from '../prompts/prompt';

const RoleSettings = z.strictObject({
  baseURL: z.url().optional(),
  model: z.string().min(1).optional(),
  /** The name of the environment variable that holds this role's key; keys never sit in the file. */
  apiKeyEnv: z.string().min(1).optional(),
  /** Overrides the method's temperature for every call of this role. */
  temperature: z.number().min(0).max(2).optional(),
  /** 'batch': this role's calls that need no answer at once go through the provider's Batch API (stage 3's never do). */
  api: z.enum(['online', 'batch']).optional(),
});

/** The provider's Batch API: OpenAI's documented limits by default (50,000 requests and 200 MB per file). */
export const BatchSettings = z.strictObject({
  maxRequestsPerFile: z.number().int().min(1).max(50_000).default(50_000),
  maxBytesPerFile: z
    .number()
    .int()
    .min(1024)
    .default(200 * 1024 * 1024),
  completionWindow: z.string().default('24h'),
  /** A request queued waits this long for others to share its batch (every new one restarts it, up to maxWaitSeconds). */
  flushSeconds: z.number().positive().default(30),
  maxWaitSeconds: z.number().positive().default(600),
  /** The first poll comes this long after submitting; the wait doubles up to pollMaxSeconds. */
  pollSeconds: z.number().positive().default(30),
  pollMaxSeconds: z.number().positive().default(600),
  /** Sends of one request (retryable errors, expired batches) before its unit fails. */
  maxTries: z.number().int().min(1).default(3),
  /**
   * The organisation's batch queue limit, in input tokens enqueued at once, per model ("*": every model
   * not named). Unset, a model gets the figure of OpenAI's lowest usage tier (agents/batch-policy.ts).
   */
  maxEnqueuedTokens: z.record(z.string(), z.number().int().positive()).default({}),
  /**
   * A batch the provider refuses as a whole for now (its queue limit) is sent again once a batch of the
   * same model ends, or after this wait (doubling up to deferMaxSeconds) when none is in the queue; past
   * maxDeferrals refusals its requests fail with the provider's word.
   */
  deferSeconds: z.number().positive().default(60),
  deferMaxSeconds: z.number().positive().default(1800),
  maxDeferrals: z.number().int().min(0).default(48),
});
export type BatchSettings = z.infer<typeof BatchSettings>;

const Price = z.tuple([z.number().nonnegative(), z.number().nonnegative()]);
const ModelPrice = z.union([Price, z.strictObject({ online: Price, batch: Price.optional() })]);

/** The openai provider's settings: muse.config.json (or MUSE_CONFIG), then the environment on top. */
export const LlmConfig = z.strictObject({
  baseURL: z.url().optional(),
  model: z.string().min(1).default('gpt-4o-mini'),
  apiKeyEnv: z.string().min(1).default('OPENAI_API_KEY'),
  roles: z
    .strictObject({
      catalog: RoleSettings,
      profile: RoleSettings,
      manager: RoleSettings,
      user: RoleSettings,
      recommender: RoleSettings,
      rewriter: RoleSettings,
      reviewer: RoleSettings,
    })
    .partial()
    .default({}),
  imageDetail: z.enum(['low', 'high', 'auto']).default('low'),
  maxImageSide: z.number().int().min(64).default(1024),
  timeoutMs: z.number().int().positive().default(120_000),
  /** How long one call keeps waiting out 429s before its attempt fails (then Temporal's retries take over). */
  rateLimitPatienceMs: z
    .number()
    .int()
    .positive()
    .default(15 * 60_000),
  maxAsks: z.number().int().min(1).max(10).default(3),
  /**
   * USD per million tokens, [input, output] (the Batch API at half of it), or {online, batch} with a
   * price of each, added to the built-in table.
   */
  prices: z.record(z.string(), ModelPrice).default({}),
  batch: BatchSettings.default(BatchSettings.parse({})),
  /**
   * The dense half of retrieval: an OpenAI-compatible /v1/embeddings endpoint (bge-m3 on vLLM,
   * text-embedding-3-small, ...). Without it the openai provider retrieves with full-text search alone.
   */
  embeddings: z
    .strictObject({
      model: z.string().min(1),
      baseURL: z.url().optional(),
      apiKeyEnv: z.string().min(1).optional(),
      /** Asks the endpoint for shorter vectors (models that support it, e.g. text-embedding-3-*). */
      dimensions: z.number().int().positive().optional(),
      /** Texts per request. */
      batchSize: z.number().int().min(1).max(2048).default(64),
    })
    .optional(),
  /** Per model, enforced across every worker through PostgreSQL. */
  rateLimits: z
    .record(
      z.string(),
      z.strictObject({ rpm: z.number().positive().optional(), tpm: z.number().positive().optional() }),
    )
    .default({}),
});
export type LlmConfig = z.infer<typeof LlmConfig>;

/** Roles whose calls need no answer at once; stage 3's dialogue (manager, user, recommender) is turn by turn and stays online. */
export const BATCH_ROLES: readonly Role[] = ['catalog', 'profile', 'rewriter', 'reviewer'];

export const ROLES: readonly Role[] = ['catalog', 'profile', 'manager', 'user', 'recommender', 'rewriter', 'reviewer'];

export interface ResolvedRole {
  baseURL?: string;
  model: string;
  apiKey?: string;
  apiKeySource: string;
  temperature?: number;
  api?: 'online' | 'batch';
}

function readFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read it (${(e as Error).message})`, { cause: e });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
}

const num = (env: NodeJS.ProcessEnv, name: string) => (env[name] === undefined ? undefined : Number(env[name]));

/** The file (when there is one), with the documented environment variables laid over it, validated. */
export function loadLlmConfig(
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): { config: LlmConfig; file?: string } {
  const file =
    env.MUSE_CONFIG ??
    (fs.existsSync(path.join(cwd, 'muse.config.json')) ? path.join(cwd, 'muse.config.json') : undefined);
  const raw = (file ? readFile(file) : {}) as Record<string, unknown>;
  const roles = { ...((raw.roles as Record<string, Record<string, unknown>>) ?? {}) };
  for (const role of ROLES) {
    const R = role.toUpperCase();
    const over = Object.fromEntries(
      Object.entries({ model: env[`MUSE_MODEL_${R}`], baseURL: env[`MUSE_BASE_URL_${R}`] }).filter(
        ([, v]) => v !== undefined,
      ),
    );
    if (Object.keys(over).length) roles[role] = { ...(roles[role] ?? {}), ...over };
  }
  let prices = raw.prices;
  if (env.MUSE_PRICES) {
    try {
      prices = { ...((raw.prices as object) ?? {}), ...JSON.parse(env.MUSE_PRICES) };
    } catch {
      throw new Error(
        'MUSE_PRICES is not JSON: expected {"model": [input USD per 1M tokens, output USD per 1M tokens]}',
      );
    }
  }
  const merged = Object.fromEntries(
    Object.entries({
      ...raw,
      roles,
      prices,
      baseURL: env.OPENAI_BASE_URL ?? raw.baseURL,
      model: env.MUSE_MODEL ?? raw.model,
      imageDetail: env.MUSE_IMAGE_DETAIL ?? raw.imageDetail,
      maxImageSide: num(env, 'MUSE_IMAGE_MAX_SIDE') ?? raw.maxImageSide,
      timeoutMs: num(env, 'MUSE_LLM_TIMEOUT_MS') ?? raw.timeoutMs,
      rateLimitPatienceMs: num(env, 'MUSE_RATE_LIMIT_PATIENCE_MS') ?? raw.rateLimitPatienceMs,
      embeddings:
        env.MUSE_EMBEDDING_MODEL || env.MUSE_EMBEDDING_BASE_URL
          ? {
              ...((raw.embeddings as object) ?? {}),
              ...Object.fromEntries(
                Object.entries({ model: env.MUSE_EMBEDDING_MODEL, baseURL: env.MUSE_EMBEDDING_BASE_URL }).filter(
                  ([, v]) => v,
                ),
              ),
            }
          : raw.embeddings,
    }).filter(([, v]) => v !== undefined),
  );
  const parsed = LlmConfig.safeParse(merged);
  if (!parsed.success) {
    const where = file ? `${file} (with the environment's overrides)` : 'the environment';
    throw new Error(`invalid LLM configuration in ${where}: ${describeProblems(parsed.error, '(top)')}`);
  }
  for (const [role, r] of Object.entries(parsed.data.roles))
    if (r?.api === 'batch' && !BATCH_ROLES.includes(role as Role))
      throw new Error(
        `invalid LLM configuration in ${file ?? 'the environment'}: roles.${role}.api: stage 3's dialogue is turn by turn and stays online; the Batch API serves ${BATCH_ROLES.join(', ')}`,
      );
  return { config: parsed.data, file };
}

/** Why the openai provider cannot run with this environment (invalid configuration, a role without its key), or undefined. */
export function openAiConfigProblem(env: NodeJS.ProcessEnv = process.env): string | undefined {
  try {
    const roles = resolveRoles(loadLlmConfig(env).config, env);
    const missing = Object.entries(roles).find(([, r]) => !r.apiKey);
    return missing
      ? `the openai provider needs a key for the ${missing[0]} role: set ${missing[1].apiKeySource} (any value for a local server)`
      : undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Each role's endpoint, model and key (the key from MUSE_API_KEY_<ROLE>, the role's apiKeyEnv, or the default). */
export function resolveRoles(c: LlmConfig, env: NodeJS.ProcessEnv = process.env): Record<Role, ResolvedRole> {
  return Object.fromEntries(
    ROLES.map((role) => {
      const r = c.roles[role] ?? {};
      const direct = `MUSE_API_KEY_${role.toUpperCase()}`;
      const keyEnv = env[direct] !== undefined ? direct : (r.apiKeyEnv ?? c.apiKeyEnv);
      return [
        role,
        {
          baseURL: r.baseURL ?? c.baseURL,
          model: r.model ?? c.model,
          apiKey: env[keyEnv],
          apiKeySource: keyEnv,
          temperature: r.temperature,
          api: r.api,
        },
      ];
    }),
  ) as Record<Role, ResolvedRole>;
}

/** The embedding endpoint, when one is configured; its key as the roles' (MUSE_API_KEY_EMBEDDINGS first). */
export function resolveEmbeddings(
  c: LlmConfig,
  env: NodeJS.ProcessEnv = process.env,
): (ResolvedRole & { dimensions?: number; batchSize: number }) | undefined {
  const e = c.embeddings;
  if (!e) return undefined;
  const keyEnv = env.MUSE_API_KEY_EMBEDDINGS !== undefined ? 'MUSE_API_KEY_EMBEDDINGS' : (e.apiKeyEnv ?? c.apiKeyEnv);
  return {
    baseURL: e.baseURL ?? c.baseURL,
    model: e.model,
    apiKey: env[keyEnv],
    apiKeySource: keyEnv,
    dimensions: e.dimensions,
    batchSize: e.batchSize,
  };
}
