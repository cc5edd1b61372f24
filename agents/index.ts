import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from '../db/pool';
import type { Mllm } from './calls';
import { OpenAiMllm } from './openai';
import { SimulatedMllm } from './simulated';

export const PROVIDERS = ['simulated', 'openai'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** One provider instance per name for the life of a worker (the openai one holds HTTP clients and the ledger). */
export function providerRegistry(pool?: Pool): (name: string) => Mllm {
  const made = new Map<string, Mllm>();
  return (name) => {
    let m = made.get(name);
    if (!m) {
      if (name === 'simulated') m = new SimulatedMllm();
      else if (name === 'openai') m = OpenAiMllm.fromEnv(process.env, pool);
      else throw ApplicationFailure.nonRetryable(`unknown provider "${name}" (expected one of ${PROVIDERS.join(', ')})`, 'ConfigurationError');
      made.set(name, m);
    }
    return m;
  };
}
