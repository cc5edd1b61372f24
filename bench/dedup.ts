/**
 * Benchmark of stage 2's BLEU dedup: N simulated backstories (samples of the method on the database's
 * catalog, gate skipped) accepted in order, each checked against every accepted one, once with the
 * 4-gram index (profiles/dedup.ts, what the acceptance activity runs) and once naively, BLEU against
 * every accepted backstory. Both must accept exactly the same backstories.
 *
 *   npx tsx bench/dedup.ts [-n 7000] [--naive N]   (after `npx muse up` and stage 1 on a catalog)
 */
import { parseArgs } from 'node:util';
import { SimulatedMllm } from '../agents/simulated';
import { getItems } from '../db/items';
import { connectionClosed, openSession } from '../client/connection';
import { tokens } from '../metrics/text';
import { BleuIndex, MAX_BLEU, nearestNaive } from '../profiles/dedup';
import { loadCategoryPools, sampleProfile } from '../profiles/sample';
import { personaLine } from '../schemas/profile';
import { installExitGuard } from '../client/log';

// gRPC retry timers outlive a closed connection; one firing after the close must not turn a finished run into exit 1.
installExitGuard(connectionClosed);

async function main() {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '7000' },
      naive: { type: 'string' },
      seed: { type: 'string', default: '4242' },
    },
  });
  const n = Number(values.n);
  const naiveN = Number(values.naive ?? n);
  const s = await openSession();
  try {
    const categories = await loadCategoryPools(s.pool);
    const llm = new SimulatedMllm();
    const samples = Array.from({ length: n }, (_, seq) => sampleProfile(categories, Number(values.seed), seq));
    const items = await getItems(s.pool, [...new Set(samples.map((x) => x.targetItemId))]);
    const texts: string[] = [];
    for (const [seq, sample] of samples.entries()) {
      texts.push(
        (
          await llm.call(
            'backstoryWriter',
            { sample, persona: personaLine(sample), target: items.get(sample.targetItemId)! },
            { key: `bench:${seq}` },
          )
        ).scenario,
      );
    }

    let t0 = performance.now();
    const index = new BleuIndex();
    const indexed: boolean[] = [];
    let compared = 0;
    for (const [i, text] of texts.entries()) {
      const near = index.nearest(text, MAX_BLEU);
      compared += near.compared;
      indexed.push(near.score <= MAX_BLEU);
      if (near.score <= MAX_BLEU) index.add(String(i), text);
    }
    const indexSeconds = (performance.now() - t0) / 1000;

    t0 = performance.now();
    const accepted = new Map<string, string[]>();
    let naiveCompared = 0;
    let agree = true;
    for (const [i, text] of texts.slice(0, naiveN).entries()) {
      const near = nearestNaive(accepted, text);
      naiveCompared += near.compared;
      if (near.score <= MAX_BLEU !== indexed[i]) agree = false;
      if (near.score <= MAX_BLEU) accepted.set(String(i), tokens(text));
    }
    const naiveSeconds = (performance.now() - t0) / 1000;
    const acceptedN = indexed.filter(Boolean).length;
    console.log(
      JSON.stringify(
        {
          backstories: n,
          accepted: acceptedN,
          duplicates: n - acceptedN,
          duplicateRate: +(1 - acceptedN / n).toFixed(3),
          index: { seconds: +indexSeconds.toFixed(2), bleuComputations: compared },
          naive: {
            backstories: naiveN,
            seconds: +naiveSeconds.toFixed(2),
            bleuComputations: naiveCompared,
            sameDecisions: agree,
          },
          allPairs: (n * (n - 1)) / 2,
        },
        null,
        2,
      ),
    );
  } finally {
    await s.close();
  }
}

void main();
