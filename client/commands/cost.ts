import { Command } from 'commander';
import { batchCost, formatCost, profilesChargedElsewhere } from '../cost';
import { withSession } from './shared';

export function register(program: Command): void {
  program
    .command('cost')
    .description("tokens and cost a batch has spent so far, by agent and model (the openai provider's ledger)")
    .argument('<batch>')
    .action((batchId: string) =>
      withSession(async (s) => {
        const rows = await batchCost(s.pool, batchId);
        if (rows.length === 0)
          return console.log(`batch ${batchId}: no LLM calls in the ledger (the simulated provider makes none)`);
        console.log(formatCost(rows));
        for (const l of await profilesChargedElsewhere(s.pool, batchId)) console.log(l);
        if (rows.some((r) => r.costUsd === null))
          console.log('unpriced: a model missing from the price table (add it with MUSE_PRICES).');
      }),
    );
}
