import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { batchStats, folderStats, formatStats } from '../stats';
import { listProblems } from '../../rec-benchmark/files';
import { int, withSession } from './shared';

export function register(program: Command): void {
  program
    .command('stats')
    .description(
      'the table a paper would print for a batch, or a folder in the Muse record format, beside the published Muse figures, with diversity metrics',
    )
    .argument('<batch|folder>')
    .option('--sample <n>', 'conversations used for self-BLEU', int('--sample', 2), 200)
    .option('--json', 'print the figures as JSON')
    .action(async (target: string, o) => {
      if (fs.statSync(target, { throwIfNoEntry: false })?.isDirectory()) {
        const st = folderStats(target, o.sample);
        if (st.problems.length) console.error(`left out (kept the rest):\n${listProblems(st.problems)}`);
        return console.log(o.json ? JSON.stringify(st, null, 2) : formatStats(path.resolve(target), st));
      }
      await withSession(async (s) => {
        const st = await batchStats(s.pool, target, o.sample);
        console.log(o.json ? JSON.stringify(st, null, 2) : formatStats(target, st));
      });
    });
}
