import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPool } from '../db/pool';
import { ConversationRecord } from '../schemas/record';
import { startOpenAiTestServer } from './openai-server';

const BIN = path.join(__dirname, '..', 'bin', 'muse.js');
const queue = `cli-${randomUUID()}`;

/** Runs the real CLI in a child process against the test stack (no `muse up`: TEMPORAL_ADDRESS and DATABASE_URL). */
function muse(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return museWith({}, ...args);
}
function museWith(
  env: Record<string, string>,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, MUSE_TASK_QUEUE: queue, ...env }, timeout: 120_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('the muse command', () => {
  it('documents every command with --help', async () => {
    const top = await muse('--help');
    expect(top.code).toBe(0);
    for (const cmd of [
      'setup',
      'up',
      'down',
      'worker',
      'catalog',
      'profiles',
      'generate',
      'status',
      'resume',
      'optimize',
      'export',
      'demo',
      'config',
      'cost',
      'estimate',
      'stats',
      'eval',
      'benchmark',
    ])
      expect(top.stdout).toContain(cmd);
    for (const cmd of [
      ['generate'],
      ['status'],
      ['resume'],
      ['optimize'],
      ['export'],
      ['catalog', 'import'],
      ['catalog', 'demo'],
      ['catalog', 'caption'],
      ['catalog', 'filter'],
      ['catalog', 'index'],
      ['catalog', 'categories'],
      ['profiles'],
      ['worker'],
      ['up'],
      ['down'],
      ['demo'],
      ['setup'],
      ['config'],
      ['cost'],
      ['estimate'],
      ['stats'],
      ['eval'],
      ['benchmark', 'export'],
      ['benchmark', 'score'],
    ]) {
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
    const records = fs
      .readFileSync(path.join(out, 'dataset.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => ConversationRecord.parse(JSON.parse(l)));
    expect(records.map((r) => r.Batch_id)).toEqual([batch, batch, batch, batch]);

    const resume = await muse('resume', batch);
    expect(resume.stdout).toContain('nothing to resume');
  });

  it('the stage-4 and evaluation path, on the simulated provider and on openai against a local server', async () => {
    const server = await startOpenAiTestServer();
    const pool = createPool(process.env.DATABASE_URL!);
    try {
      for (const provider of ['simulated', 'openai']) {
        const env: Record<string, string> =
          provider === 'openai' ? { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'test' } : {};
        const run = async (...args: string[]) => {
          const r = await museWith(env, ...args);
          expect(r.code, `${provider}: muse ${args.join(' ')}\n${r.stderr}`).toBe(0);
          return r.stdout;
        };
        const batch = `cli5-${provider}-${randomUUID().slice(0, 8)}`;
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'muse-cli5-'));
        expect(await run('generate', '-n', '4', '--batch', batch, '--seed', '8', '--provider', provider)).toContain(
          `batch ${batch}: 4 completed, 0 failed`,
        );
        expect(await run('optimize', batch)).toContain('nothing to do');
        // Other test files share the database and call models meanwhile: count what this batch and this server saw.
        const calls = async () => [
          (
            await pool.query('SELECT count(*)::int AS n FROM llm_calls WHERE conversation_id LIKE $1', [
              `muse-${batch}-%`,
            ])
          ).rows[0].n,
          server.seen.length,
        ];
        const before = await calls();
        // The test server scores every review 1+1+1 = 3: the default threshold (4) keeps nothing, 3 keeps all.
        const strict = await museWith(env, 'export', batch, '--out', path.join(dir, 'strict'));
        if (provider === 'openai') {
          expect(strict.code).toBe(1);
          expect(strict.stderr).toContain(
            `batch ${batch} has no conversation to export: kept 0 of 4; dropped 4: 4 review total below 4`,
          );
        }
        expect(
          await run('export', batch, '--out', path.join(dir, 'ds'), '--min-score', '3', '--no-screener'),
        ).toContain('kept 4 of 4');
        expect(await calls()).toEqual(before);
        const stats = await run('stats', batch);
        expect(stats).toMatch(/rewrite acceptance rate\s+\d+\.\d % of \d+/);
        expect(stats).toMatch(/review total \(0-6\)\s+mean/);
        const judged = await run('eval', path.join(dir, 'ds'), '--sample', '3', '--provider', provider);
        expect(judged).toMatch(/3 of 3 sampled conversations judged \(of 4\)/);
        for (const d of [
          'naturalness',
          'logical_coherence',
          'information_richness',
          'product_context_relevance',
          'image_text_consistency',
        ])
          expect(judged).toMatch(new RegExp(`${d}\\s+\\d\\.\\d\\d\\s+±\\d\\.\\d\\d\\s+3`));
        expect(
          await run(
            'benchmark',
            'export',
            batch,
            '--min-score',
            '3',
            '--no-screener',
            '--out',
            path.join(dir, 'bench'),
          ),
        ).toMatch(/full-text baseline: Recall@1 \d\.\d{3}/);
        if (provider === 'openai') {
          // Every call went to gpt-4o-mini, which the price table knows: a total, and no 'unpriced' note.
          // (Which stage-2 calls a batch is charged is tested on a database of its own, in openai.test.ts.)
          const cost = await run('cost', batch);
          expect(cost).toMatch(/^total .*\$\d+\.\d{4}$/m);
          expect(cost).not.toContain('unpriced');
        }
      }
      expect(server.seen.filter((r) => r.agent === 'datasetJudge')).toHaveLength(3);
      // The judge sees the images of the turns it reads.
      expect(server.seen.filter((r) => r.agent === 'datasetJudge').every((r) => r.images > 0)).toBe(true);
    } finally {
      await pool.end();
      await server.close();
    }
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
    const folder = await muse('catalog', 'import', os.tmpdir());
    expect(folder.code).toBe(1);
    expect(folder.stderr).toContain(`${os.tmpdir()}: a folder, not a file`);
    expect(folder.stderr).not.toContain('EISDIR');
    const unknown = await muse('status', 'never-ran');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no batch never-ran in the database');
  });
});
