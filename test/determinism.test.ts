import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startBatch } from '../client/batches';
import { exportBatch } from '../export';
import { dropFreshDatabases, freshDatabase, rig } from './helpers';

afterAll(dropFreshDatabases);

async function generateAndExport(databaseUrl: string, seed: number): Promise<string> {
  const t = await rig({ databaseUrl });
  try {
    // The same batch id in both databases: the commands are the same, only the database is new.
    const batchId = `same-${seed}`;
    const h = await startBatch(t, { batchId, size: 12, seed, concurrency: 6, provider: 'simulated' });
    await t.run(() => h.result());
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'muse-export-'));
    await exportBatch(t.pool, batchId, out, { minScore: 0, requireScreener: false });
    return fs.readFileSync(path.join(out, 'dataset.jsonl'), 'utf8');
  } finally {
    await t.close();
  }
}

describe('reproducibility', () => {
  it('two fresh databases given the same commands and seed produce the same dataset', async () => {
    const a = await generateAndExport(await freshDatabase('a'), 42);
    const b = await generateAndExport(await freshDatabase('b'), 42);
    expect(a.split('\n').filter(Boolean)).toHaveLength(12);
    expect(a).toBe(b);
    const c = await generateAndExport(await freshDatabase('c'), 43);
    expect(c).not.toBe(a);
  });
});
