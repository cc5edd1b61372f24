import { Rng } from '../../random';
import type { CallContext, Mllm } from '../calls';
import type { AgentInput, AgentName, AgentOutput } from '../../schemas/agent-calls';
import type { Handlers } from './handlers';
import { judgeHandlers } from './judge';
import { stage1Handlers } from './stage1';
import { stage2Handlers } from './stage2';
import { stage3Handlers } from './stage3';
import { stage4Handlers } from './stage4';

const HANDLERS: Handlers = {
  ...stage1Handlers,
  ...stage2Handlers,
  ...stage3Handlers,
  ...stage4Handlers,
  ...judgeHandlers,
};

/**
 * The offline provider: deterministic from each call's key, no network. It writes every agent's
 * output from the real profile, scenario and item attributes (colour, material, pattern, type,
 * features), so a rejection names a true difference and a recommendation describes the item it
 * shows. Records made with it carry Simulated: true.
 */
export class SimulatedMllm implements Mllm {
  readonly provider = 'simulated' as const;

  async call<A extends AgentName>(agent: A, input: AgentInput<A>, ctx: CallContext): Promise<AgentOutput<A>> {
    const handler = HANDLERS[agent] as unknown as (
      i: AgentInput<A>,
      r: Rng,
    ) => AgentOutput<A> | Promise<AgentOutput<A>>;
    return handler(input, new Rng('simulated', ctx.key));
  }
}
