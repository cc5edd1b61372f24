import { Command } from 'commander';
import { describeConfig } from '../config';

export function register(program: Command): void {
  program
    .command('config')
    .description('print the effective LLM configuration (file and environment), without secrets')
    .action(() => console.log(describeConfig()));
}
