import { AGENT_CALLS, type AgentInput, type AgentName, type Turn } from '../schemas/agent-calls';
import type { ImageRef, Item } from '../schemas/catalog';
import type { z } from 'zod';
import type { RoleName } from '../schemas/batch';

/** Which configured model serves a call: the method gives each role its own model and endpoint. */
export type Role = z.infer<typeof RoleName>;

export interface Prompt<A extends AgentName> {
  agent: A;
  /** Bumped whenever the wording changes, and recorded with every output. */
  version: string;
  role: Role;
  /** The method's temperature for this call. */
  temperature: number;
  /** The input fields (items, or lists of image references) whose images the agent sees, in the order the text refers to them. */
  sees: ReadonlyArray<SeenFields<AgentInput<A>>>;
  system: string;
  user: (input: AgentInput<A>) => string;
}

/** The fields of an agent's input that hold an item or a list of image references. */
type SeenFields<I> = { [K in keyof I]: I[K] extends Item ? K : I[K] extends ImageRef[] ? K : never }[keyof I] & string;

/** One image that goes with a call: an item's, or one referenced directly (a dataset under evaluation). */
export interface Picture {
  label: string;
  sha256: string | null;
  /** Relative to the image store root. */
  path: string | null;
  url: string | null;
}

/** A prompt module as it is used: with its reply's zod schema (from the agent registry, the one definition). */
export type PromptModule<A extends AgentName> = Prompt<A> & { output: (typeof AGENT_CALLS)[A]['output'] };

export const definePrompt = <A extends AgentName>(p: Prompt<A>): PromptModule<A> => ({
  ...p,
  output: AGENT_CALLS[p.agent].output,
});

/** The images that go with a call, read from its input by the prompt's `sees`. */
export const imagesOf = <A extends AgentName>(p: Prompt<A>, input: AgentInput<A>): Picture[] =>
  p.sees.flatMap((k) => {
    const v = (input as Record<string, unknown>)[k] as Item | ImageRef[];
    return Array.isArray(v)
      ? v.map((r) => ({ label: r.itemId, sha256: r.sha256, path: r.path, url: null }))
      : [{ label: v.id, sha256: v.imageSha256, path: v.imagePath, url: v.imageUrl }];
  });

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
