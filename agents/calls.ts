import type { Role } from '../prompts/prompt';
import type { AgentInput, AgentName, AgentOutput } from '../schemas/agent-calls';
import type { BatchApi } from './batch';
export type { ViaBatch } from '../schemas/batch';

export interface CallContext {
  /** Stable key of this call (conversation, utterance, agent): the simulated provider's seed. */
  key: string;
  conversationId?: string;
  /** The batch (or `muse eval` evaluation) a call outside any conversation is made for: the ledger charges it there. */
  batchId?: string;
  /** Roles whose calls go through the provider's Batch API (the command's `--api batch`, or the config's). */
  batchRoles?: readonly Role[];
}

/** One multimodal LLM, whatever serves it. */
export interface Mllm {
  readonly provider: 'simulated' | 'openai';
  /** The provider's Batch API, when it has one. */
  readonly batches?: BatchApi;
  call<A extends AgentName>(agent: A, input: AgentInput<A>, ctx: CallContext): Promise<AgentOutput<A>>;
}
