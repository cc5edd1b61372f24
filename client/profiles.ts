import { profileStatusCounts } from '../db/profiles';
import { profilesWorkflow, type ProfilesInput, type ProfilesProgress } from '../workflows/profiles';
import { seedProfilesWorkflowId } from '../common/ids';
import { startOrAttach } from './batches';
import { watchBatch } from './batch-watch';
import type { Session } from './connection';
import type { Role } from '../prompts/prompt';
import { via } from '../workflows/provider-batches';

export interface ProfilesOptions {
  count: number;
  seed: number;
  provider: string;
  concurrency: number;
  batchRoles?: Role[];
}

/** Stage 2 as one workflow per seed (`muse-profiles-s<seed>`): a second command while it runs attaches to it. */
export async function startProfiles(s: Session, o: ProfilesOptions) {
  const input: ProfilesInput = {
    seed: o.seed,
    count: o.count,
    provider: o.provider,
    concurrency: o.concurrency,
    ...via(o),
  };
  return startOrAttach(s, profilesWorkflow, seedProfilesWorkflowId(o.seed), input, {
    provider: o.provider,
    memo: { count: o.count, provider: o.provider },
  });
}

export async function watchProfiles(
  handle: Awaited<ReturnType<typeof startProfiles>>['handle'],
  detach?: Promise<void>,
  next?: string,
  spend?: () => Promise<string>,
) {
  return watchBatch(handle, 'profiles', detach, next, spend) as Promise<ProfilesProgress | 'detached'>;
}

/** Every sample a seed has produced, by what stage 2 made of it. */
export async function profileCounts(s: Session, seed: number): Promise<Record<string, number>> {
  return profileStatusCounts(s.pool, seed);
}
