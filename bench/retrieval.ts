/**
 * Retrieval hit rate: for each accepted profile, is its own target among the top 8 (items with an
 * image, as the recommender searches) when its backstory is the query? Full-text alone against the
 * hybrid retriever (full-text + the provider's dense index, fused by reciprocal rank), and the dense
 * side alone for reference. Three forms of the query: the story (profiles.backstory), the story with
 * the requirement (the whole structured backstory), and the requirement alone.
 *
 *   npx tsx bench/retrieval.ts [--provider simulated] [-n 1000]
 *   (after `npx muse up`, stage 1, `muse profiles -n ...` and `muse catalog index`)
 */
import { parseArgs } from 'node:util';
import { embedderRegistry } from '../agents';
import { noEmbedder } from '../agents/embedder';
import { DenseIndex } from '../catalog/dense';
import { FullTextRetriever, HybridRetriever } from '../catalog/retrieval';
import type { Retriever } from '../catalog/search';
import { connectionClosed, openSession } from '../client/connection';
import { installExitGuard } from '../client/log';

// gRPC retry timers outlive a closed connection; one firing after the close must not turn a finished run into exit 1.
installExitGuard(connectionClosed);

const TOP_K = 8;

async function main() {
  const { values } = parseArgs({
    options: { provider: { type: 'string', default: 'simulated' }, n: { type: 'string', default: '1000' } },
  });
  const s = await openSession();
  try {
    const embedder = embedderRegistry(s.pool)(values.provider);
    if (!embedder) throw new Error(noEmbedder(values.provider));
    const dense = new DenseIndex(s.pool, embedder.model);
    if (!(await dense.size()))
      throw new Error(`no index for ${embedder.model}: run \`muse catalog index --provider ${values.provider}\` first`);
    const fullText = new FullTextRetriever(s.pool);
    const denseOnly: Retriever = {
      kind: `dense:${embedder.model}`,
      search: async (q, o) => dense.search((await embedder.embed([q]))[0], o),
    };
    const retrievers = [fullText, new HybridRetriever(fullText, dense, embedder), denseOnly];
    const profiles = (
      await s.pool.query(
        `SELECT backstory, requirement, target_item_id AS target FROM profiles WHERE status = 'accepted' ORDER BY accepted_order LIMIT $1`,
        [Number(values.n)],
      )
    ).rows;
    const queries: Record<string, (p: (typeof profiles)[number]) => string> = {
      story: (p) => p.backstory,
      'story + requirement': (p) => `${p.backstory} ${p.requirement}`,
      requirement: (p) => p.requirement,
    };
    console.log(`${profiles.length} accepted profiles; target in the top ${TOP_K} (items with an image)\n`);
    console.log(['query', ...retrievers.map((r) => r.kind)].join(' | '));
    for (const [form, query] of Object.entries(queries)) {
      const cells: string[] = [];
      for (const r of retrievers) {
        let hits = 0;
        const t0 = performance.now();
        for (const p of profiles) {
          if ((await r.search(query(p), { k: TOP_K, requireImage: true })).some((h) => h.itemId === p.target)) hits++;
        }
        const ms = (performance.now() - t0) / profiles.length;
        cells.push(`${((100 * hits) / profiles.length).toFixed(1)} % (${hits}; ${ms.toFixed(1)} ms/query)`);
      }
      console.log([form, ...cells].join(' | '));
    }
  } finally {
    await s.close();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
