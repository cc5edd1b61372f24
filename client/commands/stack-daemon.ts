import { Command } from 'commander';
import { runStackDaemon } from '../../stack/daemon';

export function register(program: Command): void {
  program.command('stack-daemon', { hidden: true }).action(() => runStackDaemon());
}
