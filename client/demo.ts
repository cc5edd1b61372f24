import { countBatchesWithPrefix } from '../db/batches';
import { countUtterances } from '../db/conversations';
import { countItemsWithImages } from '../db/items';
import path from 'node:path';
import { importDemoCatalog } from '../catalog/demo';
import { describeCounts, exportBatch } from '../export';
import { describeStack, up } from '../stack';
import { batchUiUrl, openSession } from './connection';
import { startBatch, startOrAttach } from './batches';
import { watchBatch } from './batch-watch';
import { withInlineWorker } from './inline-worker';
import { captionWorkflow, categoryFilterWorkflow, indexWorkflow } from '../workflows/catalog';
import { catalogWorkflowId } from '../common/ids';

/** `npm run demo`: everything from a fresh clone to an exported dataset, on the simulated provider. */
export async function runDemo(count: number): Promise<void> {
  const t0 = Date.now();
  const stack = await up();
  console.log(describeStack(stack));
  const s = await openSession();
  try {
    const have = await countItemsWithImages(s.pool, 'demo');
    if (have === 0) console.log(`demo catalog: ${await importDemoCatalog(s.pool)} items rendered and stored`);
    else console.log(`demo catalog: ${have} items already stored`);
    const n = await countBatchesWithPrefix(s.pool, 'demo-');
    const batchId = `demo-${n + 1}`;
    const r = await withInlineWorker(s, true, async () => {
      // Stage 1 (captions, category filter, dense index): each workflow only does what is not stored yet.
      for (const [step, workflow] of [
        ['caption', captionWorkflow],
        ['filter', categoryFilterWorkflow],
        ['index', indexWorkflow],
      ] as const) {
        const id = catalogWorkflowId(step, 'simulated');
        const { handle } = await startOrAttach(
          s,
          workflow,
          id,
          { provider: 'simulated', concurrency: 10 },
          { provider: 'simulated' },
        );
        await watchBatch(handle, step);
      }
      const handle = await startBatch(s, { batchId, size: count, seed: n + 1, concurrency: 10, provider: 'simulated' });
      return watchBatch(handle, batchId);
    });
    if (r === 'detached') return;
    const out = await exportBatch(s.pool, batchId, path.join('out', batchId));
    const stored = await countUtterances(s.pool, out.ids);
    console.log(`
${r.done} conversations generated (${r.failed} failed), reviewed and filtered: ${describeCounts(out.counts)}
${out.utterances} utterances exported (${stored} stored in PostgreSQL for those conversations)
dataset:  ${out.dir}/dataset.jsonl
records:  ${out.dir}/conversations/ (${out.conversations} files), images in ${out.dir}/images/ (${out.images})
runs:     ${batchUiUrl(s, batchId)}
took ${((Date.now() - t0) / 1000).toFixed(1)} s; \`npx muse down\` stops the stack.`);
    if (r.failed || stored !== out.utterances) process.exitCode = 1;
  } finally {
    await s.close();
  }
}
