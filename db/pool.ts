import path from 'node:path';
import pg from 'pg';
import { runner } from 'node-pg-migrate';

// numeric (prices) as JS numbers; our prices fit a double exactly enough.
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

/** A server that accepts a connection and never answers must not hold a command for ever. */
export const CONNECT_TIMEOUT_MS = Number(process.env.MUSE_PG_CONNECT_TIMEOUT_MS ?? 10_000);

/** A client with our timeouts; every connection muse opens goes through here or createPool. */
export const newClient = (url: string) =>
  new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, keepAlive: true });

export function createPool(url: string, max = 10): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
  });
  // An idle connection whose server went away (a restart: 57P01) is dropped by the pool, which connects
  // anew on the next query. Without a listener, that 'error' event would kill the process.
  pool.on('error', (e) =>
    console.error(
      `muse: lost an idle PostgreSQL connection (${(e as { code?: string }).code ?? e.message}); the next query reconnects`,
    ),
  );
  return pool;
}

/** The URL with its password masked, even when it does not parse. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
  }
}

/** One line for a failed connection: which server, what went wrong, what to do. */
export function describeConnectError(url: string, e: unknown): string {
  const err = e as { code?: string; message?: string };
  const where = `PostgreSQL at ${redact(url)}`;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `the database URL ${redact(url)} is not a valid URL (expected postgres://user:password@host:port/database)`;
  }
  const host = `${u.hostname}:${u.port || 5432}`;
  switch (err.code) {
    case 'ECONNREFUSED':
      return `${where} refused the connection: nothing listens on ${host}; start PostgreSQL there, or unset DATABASE_URL and run \`muse up\``;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${where}: the host ${host.split(':')[0]} is not known; check DATABASE_URL`;
    case '28P01':
      return `${where} rejected the password of user ${u.username || '(none)'}; check DATABASE_URL`;
    case '28000':
      return `${where} does not let this user in (${err.message}); check DATABASE_URL or the server's pg_hba.conf`;
    default:
      if (/timeout/i.test(err.message ?? ''))
        return `${where} accepted no session within ${CONNECT_TIMEOUT_MS / 1000} s (connect timeout): is ${host} really PostgreSQL, and up?`;
      return `${where}: ${err.message ?? String(e)}`;
  }
}

/**
 * Applies pending migrations. node-pg-migrate's own lock fails at once when another process holds it,
 * so a worker and a command starting together would have one of them fail; waiting on a lock of ours
 * first makes them queue instead, and the later one finds nothing left to apply.
 */
export async function migrate(url: string): Promise<string[]> {
  const c = newClient(url);
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
  // A checked-out client whose server goes away between two queries emits 'error' with no one listening
  // (the pool listens only to idle ones), which would kill the process; the next query fails instead.
  const lost = () => {};
  c.on('error', lost);
  try {
    await c.query('BEGIN');
    const r = await fn(c);
    await c.query('COMMIT');
    return r;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    c.removeListener('error', lost);
    c.release();
  }
}

/** The database's identity, made by the migrations: task queues carry it, so workers of two databases never mix. */
export async function instanceId(pool: Pool): Promise<string> {
  return (await pool.query('SELECT id FROM muse_instance')).rows[0].id;
}

/** A `SELECT key, count(*)::int AS n ... GROUP BY key` as { key: n }. */
export async function countsBy(pool: Pool, sql: string, params: unknown[]): Promise<Record<string, number>> {
  const r = await pool.query(sql, params);
  return Object.fromEntries(r.rows.map((row) => [row.key, row.n]));
}
