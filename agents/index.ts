import { FailureType } from '../schemas/failures';
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from '../db/pool';
import type { Mllm } from './calls';
import type { Embedder } from './embedder';
import { OpenAiEmbedder } from './embeddings';
import { OpenAiMllm } from './openai';
import type { StartCollector } from './batch';
import { SimulatedMllm } from './simulated';
import { SimulatedEmbedder } from './simulated-embeddings';

export const PROVIDERS = ['simulated', 'openai'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** One instance per provider name for the life of a worker (the openai ones hold HTTP clients). */
function registry<T>(make: Record<ProviderName, () => T>): (name: string) => T {
  const made = new Map<string, T>();
  return (name) => {
    if (!made.has(name)) {
      if (!PROVIDERS.includes(name as ProviderName))
        throw ApplicationFailure.nonRetryable(
          `unknown provider "${name}" (expected one of ${PROVIDERS.join(', ')})`,
          FailureType.Configuration,
        );
      made.set(name, make[name as ProviderName]());
    }
    return made.get(name)!;
  };
}

/** `startCollector`: a worker's, so that calls through the Batch API start their run's collector. */
export const providerRegistry = (pool?: Pool, startCollector?: StartCollector): ((name: string) => Mllm) =>
  registry<Mllm>({
    simulated: () => new SimulatedMllm(),
    openai: () => OpenAiMllm.fromEnv(process.env, pool, startCollector),
  });

/** Each provider's embedding model; the openai one only when an embedding endpoint is configured. */
export const embedderRegistry = (pool?: Pool): ((name: string) => Embedder | undefined) =>
  registry<Embedder | undefined>({
    simulated: () => new SimulatedEmbedder(),
    openai: () => OpenAiEmbedder.fromEnv(process.env, pool),
  });
