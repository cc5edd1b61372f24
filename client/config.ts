import { loadLlmConfig, resolveEmbeddings, resolveRoles, ROLES } from '../agents/config';
import { priceOf, priceTable } from '../agents/prices';
import { PROMPTS } from '../prompts';

/** The effective LLM configuration, in words, with every secret left out. */
export function describeConfig(env: NodeJS.ProcessEnv = process.env): string {
  const { config, file } = loadLlmConfig(env);
  const roles = resolveRoles(config, env);
  const out = [
    `configuration: ${file ?? 'no file (muse.config.json or MUSE_CONFIG); defaults and environment'}`,
    '',
    'roles (the openai provider):',
  ];
  for (const role of ROLES) {
    const r = roles[role];
    out.push(
      `  ${role.padEnd(12)} model ${r.model}, endpoint ${r.baseURL ?? 'https://api.openai.com/v1'}, key from ${r.apiKeySource} (${r.apiKey ? 'set' : 'NOT SET'})` +
        (r.temperature !== undefined ? `, temperature ${r.temperature} for every call` : ''),
    );
  }
  out.push('', 'agent calls:');
  for (const p of Object.values(PROMPTS)) {
    const t = roles[p.role].temperature ?? p.temperature;
    out.push(
      `  ${p.agent.padEnd(17)} ${p.role.padEnd(12)} temperature ${t}  images: ${p.sees.length ? p.sees.join(', ') : 'none'}  prompt ${p.version}`,
    );
  }
  const e = resolveEmbeddings(config, env);
  out.push(
    '',
    e
      ? `embeddings (dense retrieval): model ${e.model}${e.dimensions ? ` at ${e.dimensions} dimensions` : ''}, endpoint ${e.baseURL ?? 'https://api.openai.com/v1'}, key from ${e.apiKeySource} (${e.apiKey ? 'set' : 'NOT SET'}), ${e.batchSize} texts a request`
      : 'embeddings (dense retrieval): none configured; the openai provider retrieves with full-text search alone',
  );
  out.push(
    '',
    `images: detail ${config.imageDetail}, downscaled past ${config.maxImageSide} px; request timeout ${config.timeoutMs} ms; up to ${config.maxAsks} asks per attempt`,
  );
  const prices = priceTable(config.prices);
  out.push(
    `prices (USD per 1M tokens in/out, online | batch): ${Object.keys(prices)
      .map((m) => `${m} ${priceOf(prices, m)!.join('/')} | ${priceOf(prices, m, 'batch')!.join('/')}`)
      .join(', ')}`,
    `batch API: up to ${config.batch.maxRequestsPerFile} requests and ${config.batch.maxBytesPerFile} bytes per file, window ${config.batch.completionWindow}, polled from ${config.batch.pollSeconds} s up to every ${config.batch.pollMaxSeconds} s; roles on it by default: ${
      Object.entries(config.roles)
        .filter(([, r]) => r?.api === 'batch')
        .map(([role]) => role)
        .join(', ') || 'none (--api batch puts a command on it)'
    }`,
  );
  const limits = Object.entries(config.rateLimits);
  out.push(
    `rate limits: ${limits.length ? limits.map(([m, l]) => `${m} ${l.rpm ?? '∞'} req/min, ${l.tpm ?? '∞'} tok/min`).join('; ') : 'none'}`,
  );
  return out.join('\n');
}
