import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConversationRecord } from '../schemas/record';

const BIN = path.join(__dirname, '..', 'bin', 'muse.js');
const queue = `cli-${randomUUID()}`;

/** Runs the real CLI in a child process against the test stack (no `muse up`: TEMPORAL_ADDRESS and DATABASE_URL). */
function muse(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, MUSE_TASK_QUEUE: queue }, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

describe('the muse command', () => {
  it('documents every command with --help', async () => {
    const top = await muse('--help');
    expect(top.code).toBe(0);
    for (const cmd of ['setup', 'up', 'down', 'worker', 'catalog', 'profiles', 'generate', 'status', 'resume', 'export', 'demo', 'config', 'cost', 'estimate', 'stats', 'benchmark']) expect(top.stdout).toContain(cmd);
    for (const cmd of [['generate'], ['status'], ['resume'], ['export'], ['catalog', 'import'], ['catalog', 'demo'], ['profiles'], ['worker'], ['up'], ['down'], ['demo'], ['setup'], ['config'], ['cost'], ['estimate'], ['stats'], ['benchmark', 'export'], ['benchmark', 'score']]) {
      const r = await muse(...cmd, '--help');
      expect(r.code, cmd.join(' ')).toBe(0);
      expect(r.stdout, cmd.join(' ')).toMatch(/^Usage: muse /);
    }
  });

  it('generate -> status -> export -> resume, end to end', async () => {
    const batch = `cli-${randomUUID().slice(0, 8)}`;
    const gen = await muse('generate', '-n', '4', '--batch', batch, '--seed', '21', '--concurrency', '2');
    expect(gen.stderr + gen.stdout).toContain(`batch ${batch}: 4 completed, 0 failed`);
    expect(gen.code).toBe(0);
    expect(gen.stdout).toContain('MuseBatchId');

    const again = await muse('generate', '-n', '4', '--batch', batch);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`batch ${batch} already exists`);

    const status = await muse('status', batch);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/completed\s+4/);

    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'muse-cli-')), 'ds');
    const exp = await muse('export', batch, '--out', out);
    expect(exp.code).toBe(0);
    expect(exp.stdout).toMatch(/^exported 4 conversations, \d+ utterances, \d+ images/);
    const records = fs.readFileSync(path.join(out, 'dataset.jsonl'), 'utf8').trim().split('\n').map((l) => ConversationRecord.parse(JSON.parse(l)));
    expect(records.map((r) => r.Batch_id)).toEqual([batch, batch, batch, batch]);

    const resume = await muse('resume', batch);
    expect(resume.stdout).toContain('nothing to resume');
  });

  it('rejects bad input with a message that names it', async () => {
    const zero = await muse('generate', '-n', '0');
    expect(zero.code).not.toBe(0);
    expect(zero.stderr).toContain('-n must be a whole number >= 1');
    const provider = await muse('generate', '-n', '2', '--provider', 'gpt');
    expect(provider.code).not.toBe(0);
    expect(provider.stderr).toMatch(/--provider.*gpt.*simulated, openai/s);
    const missing = await muse('catalog', 'import', '/nonexistent/meta.jsonl');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('/nonexistent/meta.jsonl: no such file');
    const unknown = await muse('status', 'never-ran');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no batch never-ran in the database');
  });
});
