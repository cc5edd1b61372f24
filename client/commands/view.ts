import { Command } from 'commander';
import { runViewer } from '../view';
import { int } from './shared';

export function register(program: Command): void {
  program
    .command('view')
    .description(
      'read a dataset in the browser: a list with filters and search, one conversation at a time with its images, profile, review and original beside the rewrite',
    )
    .argument(
      '<batch|folder>',
      'a batch id, an export folder of ours, or a folder of records in the Muse record format',
    )
    .option('--port <n>', 'port on the host', int('--port', 0), 8234)
    .option('--host <address>', 'address to listen on (127.0.0.1 keeps it on this machine)', '127.0.0.1')
    .action((target: string, o) => runViewer(target, { port: o.port, host: o.host }));
}
