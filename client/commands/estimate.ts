import { Command } from 'commander';
import { estimateBatch, formatEstimate } from '../estimate';
import { int, withSession } from './shared';

export function register(program: Command): void {
  program
    .command('estimate')
    .description('projected calls, tokens and cost of a batch of N on the openai provider, before it runs')
    .requiredOption('-n, --count <n>', 'conversations', int('-n', 1))
    .action((o) =>
      withSession(async (s) => {
        const { rows, rates } = await estimateBatch(s.pool, o.count);
        console.log(formatEstimate(rows, rates, o.count));
      }),
    );
}
