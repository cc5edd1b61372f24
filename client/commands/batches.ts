import { Command } from 'commander';
import { listBatches } from '../batch-status';
import { int, withSession } from './shared';

export function register(program: Command): void {
  program
    .command('batches')
    .description('the newest batches: state, conversations completed and failed, age, provider')
    .option('--limit <n>', 'how many', int('--limit', 1), 50)
    .action((o) =>
      withSession(async (s) => {
        const rows = await listBatches(s, o.limit);
        if (rows.length === 0) return console.log('no batch yet: `muse generate -n N` starts one');
        const age = (d: Date) => {
          const m = Math.round((Date.now() - d.getTime()) / 60_000);
          return m < 60 ? `${m} min` : m < 2880 ? `${Math.round(m / 60)} h` : `${Math.round(m / 1440)} d`;
        };
        const table = [
          ['batch', 'state', 'completed', 'failed', 'age', 'provider', 'api batches'],
          ...rows.map((r) => [
            r.batchId,
            r.state,
            `${r.completed}/${r.size}`,
            String(r.failed),
            age(r.createdAt),
            r.provider,
            r.apiBatches.replace(/^API batches: /, '') || '-',
          ]),
        ];
        const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
        for (const row of table)
          console.log(
            row
              .map((c, i) => c.padEnd(widths[i]))
              .join('  ')
              .trimEnd(),
          );
      }),
    );
}
