import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { migrate } from '../db/pool';
import { ensureDatabase } from '../stack/postgres';
import { env } from './helpers';

const u = new URL(env().databaseUrl);
u.pathname = `/${u.pathname.slice(1)}_migrate_${process.pid}`;

afterAll(async () => {
  const admin = new pg.Client({ connectionString: env().databaseUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(u.pathname.slice(1))} WITH (FORCE)`);
  await admin.end();
});

describe('migrations', () => {
  it('several processes starting at once on a new database all succeed, and the schema is applied once', async () => {
    await ensureDatabase(u.toString());
    const runs = await Promise.all(Array.from({ length: 4 }, () => migrate(u.toString())));
    const applied = runs.map((r) => r.length).sort((a, b) => b - a);
    expect(applied[0]).toBeGreaterThan(5);
    expect(applied.slice(1)).toEqual([0, 0, 0]);
    const c = new pg.Client({ connectionString: u.toString() });
    await c.connect();
    expect((await c.query('SELECT count(*)::int AS n FROM pgmigrations')).rows[0].n).toBe(applied[0]);
    await c.end();
  });
});
