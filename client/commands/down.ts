import { Command } from 'commander';
import { down } from '../../stack';

export function register(program: Command): void {
  program
    .command('down')
    .description('stop what `muse up` started (servers it only attached to keep running)')
    .action(() => down());
}
