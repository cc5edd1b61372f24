import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { importDemoCatalog } from '../catalog/demo';
import { startBatch } from '../client/batches';
import { createPool, migrate } from '../db/pool';
import { exportBatch } from '../export';
import { ensureDatabase } from '../stack/postgres';
import { env, rig } from './helpers';

const created: string[] = [];
afterAll(async () => {
  const admin = new pg.Client({ connectionString: env().databaseUrl });
  await admin.connect();
  for (const db of created) await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(db)} WITH (FORCE)`);
  await admin.end();
});

/** A fresh database with the schema and the demo catalog, as `muse up` + `muse catalog demo` leave it. */
async function freshDatabase(tag: string): Promise<string> {
  const u = new URL(env().databaseUrl);
  const name = `${u.pathname.slice(1)}_${tag}_${process.pid}`;
  u.pathname = `/${name}`;
  await ensureDatabase(u.toString());
  created.push(name);
  await migrate(u.toString());
  const pool = createPool(u.toString());
  await importDemoCatalog(pool);
  await pool.end();
  return u.toString();
}

async function generateAndExport(databaseUrl: string, seed: number): Promise<string> {
  const t = await rig({ databaseUrl });
  try {
    // The same batch id in both databases: the commands are the same, only the database is new.
    const batchId = `same-${seed}`;
    const h = await startBatch(t, { batchId, size: 12, seed, concurrency: 6, provider: 'simulated' });
    await t.run(() => h.result());
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'muse-export-'));
    await exportBatch(t.pool, batchId, out);
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
