import { AGENT_CALLS, type AgentInput, type AgentName, type Turn } from '../agents/calls';
import type { Item } from '../schemas/catalog';

/** Which configured model serves a call: the method gives each role its own model and endpoint. */
export type Role = 'catalog' | 'profile' | 'manager' | 'user' | 'recommender' | 'rewriter' | 'reviewer';

export interface Prompt<A extends AgentName> {
  agent: A;
  /** Bumped whenever the wording changes, and recorded with every output. */
  version: string;
  role: Role;
  /** The method's temperature for this call. */
  temperature: number;
  /** The input fields (items) whose images the agent sees, in the order the text refers to them. */
  sees: ReadonlyArray<ItemFields<AgentInput<A>>>;
  system: string;
  user: (input: AgentInput<A>) => string;
}

/** The fields of an agent's input that hold an item. */
type ItemFields<I> = { [K in keyof I]: I[K] extends Item ? K : never }[keyof I] & string;

/** A prompt module as it is used: with its reply's zod schema (from the agent registry, the one definition). */
export type PromptModule<A extends AgentName> = Prompt<A> & { output: (typeof AGENT_CALLS)[A]['output'] };

export const definePrompt = <A extends AgentName>(p: Prompt<A>): PromptModule<A> => ({ ...p, output: AGENT_CALLS[p.agent].output });

/** The items whose images go with a call, read from its input by the prompt's `sees`. */
export const imagesOf = <A extends AgentName>(p: Prompt<A>, input: AgentInput<A>): Item[] =>
  p.sees.map((k) => (input as Record<string, unknown>)[k] as Item);

export function itemText(it: Item, label = 'Item'): string {
  const lines = [`${label} ${it.id}: ${it.title}`];
  if (it.description) lines.push(`Description: ${it.description}`);
  if (it.features.length) lines.push(`Features: ${it.features.join('; ')}`);
  if (it.categories.length) lines.push(`Categories: ${it.categories.join(' > ')}`);
  return lines.join('\n');
}

export function dialogueText(turns: readonly Turn[]): string {
  return turns.length ? turns.map((t) => `${t.speaker}: ${t.text}`).join('\n') : '(the conversation has not started)';
}
