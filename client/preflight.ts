import { loadLlmConfig, openAiConfigProblem, resolveRoles } from '../agents/config';
import type { Pool } from '../db/pool';
import { loadCategoryPools, NO_TARGETS } from '../profiles/sample';

/** How long the endpoint check waits for an answer. */
const ENDPOINT_TIMEOUT_MS = 10_000;

/**
 * What a command can check before it starts anything, so a setup mistake fails in seconds with one line
 * instead of inside a workflow: the provider's configuration, keys and endpoints.
 */
export async function checkProvider(provider: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (provider !== 'openai') return;
  const problem = openAiConfigProblem(env);
  if (problem) throw new Error(problem);
  const endpoints = new Map<string, { baseURL: string; key: string; keySource: string }>();
  for (const r of Object.values(resolveRoles(loadLlmConfig(env).config, env))) {
    const baseURL = (r.baseURL ?? 'https://api.openai.com/v1').replace(/\/+$/, '');
    endpoints.set(`${baseURL}|${r.apiKeySource}`, { baseURL, key: r.apiKey!, keySource: r.apiKeySource });
  }
  await Promise.all([...endpoints.values()].map(checkEndpoint));
}

/** GET /models: any answer but 401/403 means the endpoint is there and takes the key (some servers have no /models). */
async function checkEndpoint(e: { baseURL: string; key: string; keySource: string }): Promise<void> {
  let res: Response;
  try {
    res = await fetch(`${e.baseURL}/models`, {
      headers: { authorization: `Bearer ${e.key}` },
      signal: AbortSignal.timeout(ENDPOINT_TIMEOUT_MS),
    });
  } catch (err) {
    const why = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    throw new Error(
      `the openai endpoint ${e.baseURL} does not answer (${why === 'TimeoutError' ? `no answer in ${ENDPOINT_TIMEOUT_MS / 1000} s` : why}): check OPENAI_BASE_URL (or the role's baseURL) and that the server is up`,
      { cause: err },
    );
  }
  await res.body?.cancel();
  if (res.status === 401 || res.status === 403)
    throw new Error(
      `the openai endpoint ${e.baseURL} rejected the key in ${e.keySource} (HTTP ${res.status}): set a valid key there`,
    );
}

/** Stage 2 needs targets: product-type categories with captioned items that have images (stage 1). */
export async function checkStage1(pool: Pool): Promise<void> {
  if ((await loadCategoryPools(pool)).length === 0) throw new Error(NO_TARGETS);
}
