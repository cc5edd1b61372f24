import { Option } from 'commander';
import { BATCH_ROLES, loadLlmConfig } from '../agents/config';
import type { Role } from '../prompts/prompt';

export type ApiChoice = 'online' | 'batch';

/** `--api`: which API the command's calls that need no answer at once go through. */
export const apiOption = (stage3 = false) =>
  new Option(
    '--api <api>',
    `online (the default), or batch: through the provider's Batch API at about half the price, answered within its 24 h window${
      stage3 ? "; stage 3's turn-by-turn dialogue always stays online" : ''
    } (default: each role's \`api\` in muse.config.json)`,
  ).choices(['online', 'batch']);

/**
 * The roles among `roles` whose calls go through the Batch API: all of them with `--api batch`, none with
 * `--api online`, else those the config puts on it. The command resolves this once and passes it to its
 * workflow, so every worker sends the same calls the same way and the Web UI shows which went by batch.
 */
export function batchRolesFor(
  provider: string,
  api: ApiChoice | undefined,
  roles: readonly Role[],
  env: NodeJS.ProcessEnv = process.env,
): Role[] {
  const eligible = roles.filter((r) => BATCH_ROLES.includes(r));
  if (api === 'online') return [];
  if (provider !== 'openai') {
    if (api === 'batch')
      throw new Error(
        `--api batch: the Batch API is the openai provider's; the ${provider} provider answers at once (add --provider openai)`,
      );
    return [];
  }
  if (api === 'batch') return eligible;
  const { config } = loadLlmConfig(env);
  return eligible.filter((r) => config.roles[r]?.api === 'batch');
}

/** The roles of each command that may go through the Batch API. */
export const COMMAND_ROLES = {
  catalog: ['catalog'],
  profiles: ['profile'],
  /** A batch: the profiles it makes, and stage 4 (stage 3 stays online). */
  generate: ['profile', 'rewriter', 'reviewer'],
  optimize: ['rewriter', 'reviewer'],
  eval: ['reviewer'],
} as const satisfies Record<string, readonly Role[]>;
