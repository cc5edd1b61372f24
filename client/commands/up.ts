import { Command } from 'commander';
import { describeStack, up } from '../../stack';

export function register(program: Command): void {
  program
    .command('up')
    .description('start (or attach to) the Temporal dev server and PostgreSQL, apply migrations, print where they are')
    .action(async () => console.log(describeStack(await up())));
}
