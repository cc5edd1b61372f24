import path from 'node:path';
import pg from 'pg';
import { runner } from 'node-pg-migrate';

// numeric (prices) as JS numbers; our prices fit a double exactly enough.
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export function createPool(url: string, max = 10): pg.Pool {
  return new pg.Pool({ connectionString: url, max });
}

/**
 * Applies pending migrations. node-pg-migrate's own lock fails at once when another process holds it,
 * so a worker and a command starting together would have one of them fail; waiting on a lock of ours
 * first makes them queue instead, and the later one finds nothing left to apply.
 */
export async function migrate(url: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`SELECT pg_advisory_lock(hashtext('muse.migrate'))`);
    const done = await runner({
      databaseUrl: url,
      dir: path.join(__dirname, 'migrations'),
      direction: 'up',
      migrationsTable: 'pgmigrations',
      log: () => {},
      verbose: false,
    });
    return done.map((m) => m.name);
  } finally {
    await c.end(); // ends the session, and with it the lock
  }
}

/** Runs fn in a transaction: committed when it returns, rolled back when it throws. */
export async function inTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const r = await fn(c);
    await c.query('COMMIT');
    return r;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    c.release();
  }
}
