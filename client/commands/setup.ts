import { Command } from 'commander';
import { ensureTemporalCli } from '../../stack/temporal-cli';
import { ensureChromium } from '../../stack/chromium';

export function register(program: Command): void {
  program
    .command('setup')
    .description(
      "install what the stack needs on this machine: the Temporal CLI (Temporal's release archive, or built with Go) into a cache when missing",
    )
    .option('--browser', "also Debian's Chromium, which the viewer's browser test drives (apt-get, when missing)")
    .action(async (o) => {
      console.log(`Temporal CLI: ${await ensureTemporalCli(console.log)}`);
      if (o.browser) console.log(`Chromium: ${ensureChromium(console.log)}`);
    });
}
