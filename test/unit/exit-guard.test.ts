import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.join(__dirname, '..', '..');

/** A process with the CLI's exit guard that throws `message` from a timer, as the gRPC retry timer does. */
function throwFromTimer(closed: boolean, message: string) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'muse-guard-'));
  const script = path.join(home, 'child.js');
  fs.writeFileSync(
    script,
    `require(${JSON.stringify(require.resolve('tsx/cjs/api'))}).register();
     const { installExitGuard } = require(${JSON.stringify(path.join(ROOT, 'client/log.ts'))});
     installExitGuard(() => ${closed});
     setTimeout(() => { throw new Error(${JSON.stringify(message)}); }, 10);
     setTimeout(() => console.log('finished'), 200);`,
  );
  const r = spawnSync(process.execPath, [script], { env: { ...process.env, MUSE_HOME: home }, encoding: 'utf8' });
  return { ...r, home };
}

describe('the exit guard', () => {
  it('lets a command finish when a gRPC retry fires after its connection closed', () => {
    const r = throwFromTimer(true, 'Channel has been shut down');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('finished');
    expect(r.stderr).toBe('');
  });

  it('ends any other uncaught error in one line that names the log, and exits 1', () => {
    for (const [closed, message] of [
      [true, 'something else broke'],
      [false, 'Channel has been shut down'],
    ] as const) {
      const r = throwFromTimer(closed, message);
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toBe(`muse: ${message} (details: ${path.join(r.home, 'logs', 'cli.log')})`);
      expect(fs.readFileSync(path.join(r.home, 'logs', 'cli.log'), 'utf8')).toContain('at Timeout');
    }
  });
});
