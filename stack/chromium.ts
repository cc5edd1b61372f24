import fs from 'node:fs';
import { spawnSync } from 'node:child_process';

/** Debian's Chromium, which the viewer's browser test drives through playwright-core (never a browser download). */
const DEBIAN_CHROMIUM = '/usr/bin/chromium';

/**
 * The Chromium binary: CHROMIUM_PATH, or Debian's, installed with apt-get when missing and this process
 * may (root). Otherwise an error that says what to install.
 */
export function ensureChromium(log: (m: string) => void = () => {}): string {
  const wanted = process.env.CHROMIUM_PATH;
  if (wanted) {
    if (!fs.existsSync(wanted)) throw new Error(`CHROMIUM_PATH=${wanted} does not exist`);
    return wanted;
  }
  if (fs.existsSync(DEBIAN_CHROMIUM)) return DEBIAN_CHROMIUM;
  if (process.getuid?.() !== 0)
    throw new Error(
      `no Chromium at ${DEBIAN_CHROMIUM}: install it (sudo apt-get install -y chromium) or set CHROMIUM_PATH`,
    );
  log('installing Debian chromium with apt-get (once)');
  const apt = (...args: string[]) =>
    spawnSync('apt-get', args, {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeout: 10 * 60_000,
    }).status;
  // Stale package lists are the usual reason an install fails: refresh them once and try again.
  if (apt('install', '-y', '-q', 'chromium') !== 0) apt('update', '-q');
  if (!fs.existsSync(DEBIAN_CHROMIUM) && apt('install', '-y', '-q', 'chromium') !== 0)
    throw new Error('apt-get install -y chromium failed: install Debian chromium, or set CHROMIUM_PATH');
  return DEBIAN_CHROMIUM;
}
