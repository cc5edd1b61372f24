/** What the commands share: option parsers, the session around an action, and the closing lines of a run. */
import { findBatch } from '../../db/batches';
import { checkProvider } from '../preflight';
import { Command, InvalidArgumentError, Option } from 'commander';
import { embedderRegistry, PROVIDERS } from '../../agents';
import { indexStatus } from '../../db/items';
import { noEmbedder } from '../../agents/embedder';
import { watchBatch } from '../batch-watch';
import { openSession, type Session } from '../connection';
import { requestCounts } from '../../db/provider-batches';

export const int =
  (name: string, min = 0) =>
  (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be a whole number >= ${min}`);
    return n;
  };
const score06 = (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 6)
    throw new InvalidArgumentError('--min-score must be a number from 0 to 6');
  return n;
};
/** Which conversations form a batch's dataset: the stage-4 thresholds, the same for export, eval and benchmark. */
export const withThresholds = (c: Command) =>
  c
    .option(
      '--min-score <x>',
      'lowest review total (0-6: content quality + logical fluency + user consistency) a kept conversation has',
      score06,
      4,
    )
    .option('--no-screener', 'keep conversations whose recommendations the screener judged unfit for the context');
export const thresholdsOf = (o: { minScore: number; screener: boolean }) => ({
  minScore: o.minScore,
  requireScreener: o.screener,
});
export const providerOption = () =>
  new Option('--provider <name>', 'agent provider').choices(PROVIDERS).default('simulated');
const usd = (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError('--max-cost must be an amount in USD, 0 or more');
  return n;
};
export const maxCostOption = () =>
  new Option(
    '--max-cost <usd>',
    'budget cap on what the batch spends in all (as `muse cost` counts it): at the cap no new agent call starts and the batch pauses',
  ).argParser(usd);

/** The embedding model a provider's index is stored under, or a clear error when it has none. */
export function embedderModel(provider: string): string {
  const e = embedderRegistry()(provider);
  if (!e) throw new Error(noEmbedder(provider));
  return e.model;
}

/** Which retriever a provider's conversations will use, as the worker decides it (see retrieverRegistry). */
export async function describeRetrieval(s: Session, provider: string): Promise<string> {
  const e = embedderRegistry()(provider);
  if (!e) return 'retrieval: full-text search (no embedding model configured for this provider)';
  const ix = await indexStatus(s.pool, e.model);
  return ix.indexed
    ? `retrieval: hybrid, full-text + ${e.model} (${ix.current} of ${ix.items} items indexed from their current text)`
    : `retrieval: full-text search (\`muse catalog index --provider ${provider}\` builds the dense index for the hybrid)`;
}

export async function withSession<T>(fn: (s: Session) => Promise<T>): Promise<T> {
  const s = await openSession();
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

/**
 * Ctrl-C stops watching; the batch goes on in Temporal. Taken as soon as the workflow exists, before
 * anything is printed about it: a Ctrl-C in between would otherwise kill the process with no word.
 */
export function ctrlC(): Promise<void> {
  return new Promise((resolve) => process.once('SIGINT', () => resolve()));
}

/** After a run: how many of its requests the Batch API refused, and where their reasons are listed. */
export async function printRefused(s: Session, runId: string): Promise<void> {
  const refused = (await requestCounts(s.pool, runId)).failed;
  if (refused)
    console.log(
      `${refused} request${refused === 1 ? ' was' : 's were'} refused by the Batch API: \`muse status ${runId}\` lists them with the reason`,
    );
}

export function report(batchId: string, r: Awaited<ReturnType<typeof watchBatch>>) {
  if (r === 'detached') {
    console.log(
      `\ndetached from ${batchId}; it keeps running in Temporal (a worker must be running: \`muse worker\`). Watch it with \`muse status ${batchId}\`.`,
    );
    process.exit(0);
  }
  console.log(
    `batch ${batchId}: ${r.done} completed, ${r.failed} failed in ${((Date.now() - r.startedAt) / 1000).toFixed(1)} s`,
  );
  if (r.paused) {
    console.log(`paused: ${r.paused}`);
    process.exitCode = 1;
  } else if (r.failed) {
    console.log(`see \`muse status ${batchId}\`, then \`muse resume ${batchId}\``);
    process.exitCode = 1;
  }
}

/** A batch's provider, checked (its configuration, keys and endpoints answer) before a command acts on the batch. */
export async function checkedProviderOf(s: Session, batchId: string): Promise<string | undefined> {
  const provider = (await findBatch(s.pool, batchId))?.provider;
  if (provider) await checkProvider(provider);
  return provider;
}

/** What `status` and `cancel` take: any run that may have sent provider batches. */
export const RUN_ARGUMENT =
  'a batch; or a run that sent provider batches (muse-caption, muse-filter, muse-profiles-s<seed>, an evaluation e-…)';
