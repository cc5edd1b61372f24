import type { AgentInput, AgentName, AgentOutput } from '../../schemas/agent-calls';
import type { Rng } from '../../random';

/** One function per agent call: the input it is given and a generator seeded by the call's key. */
export type Handlers = {
  [A in AgentName]: (input: AgentInput<A>, rng: Rng) => AgentOutput<A> | Promise<AgentOutput<A>>;
};
