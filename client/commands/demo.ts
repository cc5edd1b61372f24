import { Command } from 'commander';
import { runDemo } from '../demo';
import { int } from './shared';

export function register(program: Command): void {
  program
    .command('demo')
    .description('the whole path on the simulated provider: stack, demo catalog, ~20 conversations, export')
    .option('-n, --count <n>', 'conversations', int('-n', 1), 20)
    .action((o) => runDemo(o.count));
}
