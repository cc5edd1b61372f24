import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { ProfilesInput, ProfilesProgress } from '../workflows/profiles';
import { watchBatch } from './batches';
import type { Session } from './connection';

export interface ProfilesOptions {
  count: number;
  seed: number;
  provider: string;
  concurrency: number;
}

/** Stage 2 as one workflow per seed (`muse-profiles-s<seed>`): a second command while it runs attaches to it. */
export async function startProfiles(s: Session, o: ProfilesOptions) {
  const workflowId = `muse-profiles-s${o.seed}`;
  const input: ProfilesInput = { seed: o.seed, count: o.count, provider: o.provider, concurrency: o.concurrency };
  try {
    return { handle: await s.client.workflow.start('profilesWorkflow', { workflowId, taskQueue: s.taskQueue, args: [input], memo: { count: o.count, provider: o.provider } }), attached: false };
  } catch (e) {
    if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
    return { handle: s.client.workflow.getHandle(workflowId), attached: true };
  }
}

export async function watchProfiles(handle: Awaited<ReturnType<typeof startProfiles>>['handle'], detach?: Promise<void>) {
  return watchBatch(handle, 'profiles', detach) as Promise<ProfilesProgress | 'detached'>;
}

/** Every sample a seed has produced, by what stage 2 made of it. */
export async function profileCounts(s: Session, seed: number): Promise<Record<string, number>> {
  return Object.fromEntries((await s.pool.query('SELECT status, count(*)::int AS n FROM profiles WHERE seed = $1 GROUP BY status ORDER BY status', [seed])).rows.map((r) => [r.status, r.n]));
}
