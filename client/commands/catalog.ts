import { via as viaBatch } from '../../workflows/provider-batches';
import { Command } from 'commander';
import { importAmazonCatalog } from '../../catalog/amazon';
import { importDemoCatalog } from '../../catalog/demo';
import { startOrAttach } from '../batches';
import { batchSpend, watchBatch } from '../batch-watch';
import type { BatchProgress } from '../../common/progress';
import { type Session } from '../connection';
import { withInlineWorker } from '../inline-worker';
import { captionCounts, categoryVerdicts, dropEmbeddings, indexStatus } from '../../db/items';
import { checkProvider } from '../preflight';
import { captionWorkflow, categoryFilterWorkflow, indexWorkflow } from '../../workflows/catalog';
import { catalogWorkflowId } from '../../common/ids';
import { apiOption, batchRolesFor, COMMAND_ROLES } from '../api';
import { int, providerOption, embedderModel, withSession, ctrlC, printRefused, report } from './shared';

export function register(program: Command): void {
  const catalog = program
    .command('catalog')
    .description('the item database: demo, import, caption, filter, index, categories');
  catalog
    .command('demo')
    .description(
      'render and store the built-in demo catalog (20,800 items of 26 types, with PNG images); safe to repeat',
    )
    .action(() =>
      withSession(async (s) => {
        const n = await importDemoCatalog(s.pool, (d, t) => {
          if (d % 50 === 0 || d === t) process.stderr.write(`\rdemo catalog: ${d}/${t}`);
        });
        process.stderr.write('\n');
        console.log(`demo catalog: ${n} items stored`);
      }),
    );
  catalog
    .command('import')
    .description('import Amazon Reviews 2023 item metadata (JSON lines); bad lines are reported, good ones kept')
    .argument('<path>', 'a .jsonl file of item metadata')
    .option('--images <dir>', 'folder with the main images, named <parent_asin>.<ext> or like the image URL')
    .action((file: string, o) =>
      withSession(async (s) => {
        const r = await importAmazonCatalog(s.pool, file, o.images, (n) => {
          if (n % 500 === 0) process.stderr.write(`\rimported ${n}`);
        });
        for (const e of r.errors) console.error(`${file}:${e.line}: ${e.problem}`);
        console.log(
          `imported ${r.imported} items (${r.withoutImage} without an image), rejected ${r.errors.length} lines`,
        );
        if (r.warning) {
          console.error(r.warning);
          process.exitCode = 1;
        } else if (r.withoutCategories)
          console.log(
            `${r.withoutCategories} items have no categories and cannot be targets (stage 2 samples by category)`,
          );
        if (r.errors.length) process.exitCode = 1;
      }),
    );

  interface Stage1Step {
    /** Checks and preparation before the workflow starts (a clear error beats a failed workflow). */
    before?: (s: Session, o: Record<string, unknown> & { provider: string }) => Promise<void>;
    options?: (c: Command) => Command;
    done: (r: BatchProgress, s: Session, o: { provider: string }) => string | Promise<string>;
  }
  /** Stage 1 steps share their shape: one workflow per step, started or attached to, watched, summarised. */
  const stage1 = (
    name: 'caption' | 'filter' | 'index',
    workflow: typeof captionWorkflow,
    description: string,
    step: Stage1Step,
  ) =>
    // The index embeds through /v1/embeddings, which the Batch API path here does not serve: no --api.
    ((c: Command) => (name === 'index' ? c : c.addOption(apiOption())))(
      (step.options ?? ((c) => c))(catalog.command(name).description(description)).addOption(providerOption()),
    )
      .option('--concurrency <c>', 'activities at once', int('--concurrency', 1), 10)
      .option('--no-worker', 'do not run a worker in this process')
      .action((o) =>
        withSession(async (s) => {
          await checkProvider(o.provider);
          await step.before?.(s, o);
          const { handle, attached } = await startOrAttach(
            s,
            workflow,
            catalogWorkflowId(name, o.provider),
            {
              provider: o.provider,
              concurrency: o.concurrency,
              ...viaBatch({
                batchRoles: batchRolesFor(o.provider, o.api, name === 'index' ? [] : COMMAND_ROLES.catalog),
              }),
            },
            { provider: o.provider, memo: { provider: o.provider } },
          );
          const detach = ctrlC();
          if (attached) console.log(`${handle.workflowId} is already running: watching it`);
          const r = await withInlineWorker(s, o.worker, () =>
            watchBatch(
              handle,
              name,
              detach,
              `fix that, then run \`muse catalog ${name}\` again (stored work is kept)`,
              // Through the Batch API, the line shows its provider batches' counts.
              () => batchSpend(s, handle.workflowId),
            ),
          );
          if (r === 'detached') return report(handle.workflowId, r);
          console.log(await step.done(r, s, o));
          await printRefused(s, handle.workflowId);
          if (r.failed) process.exitCode = 1;
        }),
      );
  const took = (r: BatchProgress) => `${((Date.now() - r.startedAt) / 1000).toFixed(1)} s`;
  stage1(
    'caption',
    captionWorkflow,
    'stage 1: re-caption every item without a caption from its text and image (items without one never become targets)',
    {
      // Counted in the catalog: a chunk that failed may have stored most of its captions (200 through the Batch API).
      done: async (r, s) => {
        const { items, withoutCaption } = await captionCounts(s.pool);
        return (
          `captioned in ${took(r)}: ${items - withoutCaption} of ${items} items have a caption` +
          (withoutCaption
            ? `; ${withoutCaption} have none: run it again to caption them (stored captions are kept)`
            : '')
        );
      },
    },
  );
  stage1(
    'filter',
    categoryFilterWorkflow,
    'stage 1: ask the filter agent which tags (used by 5+ items) are clothing, footwear or accessory types; only those drive sampling',
    {
      done: (r) =>
        `judged ${r.done} categories (${r.failed} failed) in ${took(r)}; \`muse catalog categories\` lists the verdicts`,
    },
  );
  stage1(
    'index',
    indexWorkflow,
    "stage 1: embed every item missing from the provider's dense index (or changed since); once built, retrieval fuses full-text and dense search",
    {
      options: (c) =>
        c.option(
          '--rebuild',
          "drop the provider's index first and embed every item again (after the embedding model changed)",
        ),
      before: async (s, o) => {
        const model = embedderModel(o.provider);
        if (o.rebuild) console.log(`dropped ${await dropEmbeddings(s.pool, model)} vectors of ${model}`);
      },
      done: async (r, s, o) => {
        const ix = await indexStatus(s.pool, embedderModel(o.provider));
        return (
          `embedded ${r.done} items (${r.failed} failed) in ${took(r)}; index ${ix.model}: ${ix.current} of ${ix.items} items up to date` +
          (ix.dims
            ? `, ${ix.dims} dimensions; retrieval for ${o.provider} conversations is now hybrid (full-text + dense, fused by reciprocal rank)`
            : '')
        );
      },
    },
  );
  catalog
    .command('categories')
    .description("the category filter's verdicts: which tags drive sampling, with their item counts")
    .action(() =>
      withSession(async (s) => {
        const rows = await categoryVerdicts(s.pool, 5);
        for (const r of rows)
          console.log(
            `${r.isProductType ? 'yes' : 'no '}  ${String(r.itemCount).padStart(6)}  ${r.name}  (${r.verdictSource ?? 'not judged'})`,
          );
      }),
    );
}
