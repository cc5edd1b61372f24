import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { REPLAYED_SHAPES } from '../common/shape';

/** The open runs on these task queues that this code cannot replay: started with another workflow shape, or before shapes were stamped. */
export async function unreplayableRuns(
  client: Client,
  taskQueues: readonly string[],
): Promise<{
  count: number;
  query: string;
  examples: Array<{ workflowId: string; type: string; shape: string; batch?: string }>;
}> {
  const quote = (v: string) => JSON.stringify(v);
  const query =
    `ExecutionStatus = "Running" AND TaskQueue IN (${taskQueues.map(quote).join(', ')}) ` +
    `AND (MuseShape IS NULL OR MuseShape NOT IN (${REPLAYED_SHAPES.map(quote).join(', ')}))`;
  const { count } = await client.workflow.count(query);
  const examples = [];
  if (count > 0)
    for await (const w of client.workflow.list({ query, pageSize: 3 })) {
      const attr = (k: string) => (w.searchAttributes?.[k] as string[] | undefined)?.[0];
      examples.push({
        workflowId: w.workflowId,
        type: w.type,
        shape: attr('MuseShape') ?? 'none',
        batch: attr('MuseBatchId'),
      });
      if (examples.length === 3) break;
    }
  return { count, query, examples };
}

/**
 * Refuses to start a worker over open runs it would not replay (their next workflow task would fail
 * for ever): one line says how many, which, and what to run (CONTRIBUTING.md, "Upgrading with open runs").
 */
export async function refuseUnreplayableRuns(
  to: { connectionOptions: ConnectionOptions; namespace: string },
  taskQueues: readonly string[],
): Promise<void> {
  const connection = await Connection.connect({ ...to.connectionOptions, connectTimeout: 10_000 });
  try {
    let found: Awaited<ReturnType<typeof unreplayableRuns>>;
    try {
      found = await unreplayableRuns(new Client({ connection, namespace: to.namespace }), taskQueues);
    } catch (e) {
      // A visibility store that cannot answer the query (an old server's standard visibility) is not a
      // reason to refuse work: the check is skipped, and said so.
      process.emitWarning(`could not look for open runs of other releases: ${(e as Error).message}`);
      return;
    }
    const { count, query, examples } = found;
    if (count === 0) return;
    const batch = examples.find((e) => e.batch)?.batch ?? '<batch>';
    const terminate =
      `temporal workflow terminate --address ${to.connectionOptions.address ?? '127.0.0.1:7233'} ` +
      `--namespace ${to.namespace} --yes --query '${query}'`;
    throw new Error(
      `${count} open run${count === 1 ? ' was' : 's were'} started by another release of muse, whose workflows this one does not ` +
        `replay (shape ${examples[0].shape}; this worker replays ${REPLAYED_SHAPES.join(', ')}), e.g. ${examples.map((e) => `${e.workflowId} (${e.type})`).join(', ')}: ` +
        `finish them with the release that started them, or end them (\`${terminate}\`) and \`muse resume ${batch}\` ` +
        `with this one: stored work is kept (CONTRIBUTING.md, "Upgrading with open runs")`,
    );
  } finally {
    await connection.close();
  }
}
