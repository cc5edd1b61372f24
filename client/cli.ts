import { Command } from 'commander';
import { connectionClosed } from './connection';
import { installExitGuard, reportFailure } from './log';
import * as batches from './commands/batches';
import * as benchmark from './commands/benchmark';
import * as cancel from './commands/cancel';
import * as catalog from './commands/catalog';
import * as config from './commands/config';
import * as cost from './commands/cost';
import * as demo from './commands/demo';
import * as down from './commands/down';
import * as estimate from './commands/estimate';
import * as evaluate from './commands/eval';
import * as exportCommand from './commands/export';
import * as generate from './commands/generate';
import * as optimize from './commands/optimize';
import * as profiles from './commands/profiles';
import * as resume from './commands/resume';
import * as setup from './commands/setup';
import * as stackDaemon from './commands/stack-daemon';
import * as stats from './commands/stats';
import * as status from './commands/status';
import * as up from './commands/up';
import * as view from './commands/view';
import * as worker from './commands/worker';

/** The commands, one file each in commands/, grouped in `muse --help` by the stage of the method they serve. */
const GROUPS: Array<[heading: string, commands: Array<{ register: (p: Command) => void }>]> = [
  ['Start here:', [demo]],
  ['The stack (Temporal and PostgreSQL):', [setup, up, down, worker, stackDaemon]],
  ['Stage 1, the item database:', [catalog]],
  ['Stage 2, user profiles:', [profiles]],
  [
    'Generate and watch (stages 3 and 4):',
    [generate, batches, status, resume, cancel, optimize, cost, estimate, config],
  ],
  ['The dataset:', [exportCommand, view, stats, benchmark]],
  ['Evaluation:', [evaluate]],
];

const program = new Command('muse')
  .description(
    'Durable synthesis of multimodal conversational-recommendation datasets (the Muse method) on Temporal and PostgreSQL',
  )
  .showHelpAfterError();
for (const [heading, commands] of GROUPS) {
  program.commandsGroup(heading);
  for (const c of commands) c.register(program);
}

installExitGuard(connectionClosed);
program.parseAsync().catch((e) => {
  console.error(reportFailure(e));
  process.exit(1);
});
