import net from 'node:net';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createPool, describeConnectError, inTransaction } from '../db/pool';
import { freePort } from './global-setup';
import { env, runMuse } from './helpers';

const muse = (envExtra: Record<string, string>, ...args: string[]) =>
  runMuse({ ...process.env, ...envExtra }, args, 30_000);

const servers: net.Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
});

describe('connections to PostgreSQL', () => {
  it('a server that accepts and never answers, a closed port and a malformed URL each end in one line naming the URL, password masked', async () => {
    const silent = net.createServer((socket) => {
      socket.on('error', () => {}); /* accept, never answer */
    });
    servers.push(silent);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const silentPort = (silent.address() as net.AddressInfo).port;
    const closedPort = await freePort();
    const cases = [
      [`postgres://muse:s3cret@127.0.0.1:${silentPort}/muse`, /accepted no session within 2 s/],
      [
        `postgres://muse:s3cret@127.0.0.1:${closedPort}/muse`,
        /refused the connection: nothing listens on 127\.0\.0\.1:\d+/,
      ],
      ['postgres://muse:s3cret@127.0.0.1:notaport/muse', /is not a valid URL/],
    ] as const;
    for (const [url, why] of cases) {
      const r = await muse({ DATABASE_URL: url, MUSE_PG_CONNECT_TIMEOUT_MS: '2000' }, 'status', 'some-batch');
      expect(r.code, `${url}: ${r.stderr}`).toBe(1);
      expect(r.ms, url).toBeLessThan(20_000);
      const lines = r.stderr.trim().split('\n');
      expect(lines, url).toHaveLength(1);
      expect(lines[0]).toMatch(why);
      expect(lines[0]).toContain('muse:***@127.0.0.1');
      expect(r.stderr + r.stdout).not.toContain('s3cret');
    }
  });

  it('a rejected password names the user, not the password', () => {
    const line = describeConnectError(
      'postgres://alice:hunter2@db.example:5432/muse',
      Object.assign(new Error('password authentication failed'), { code: '28P01' }),
    );
    expect(line).toBe(
      'PostgreSQL at postgres://alice:***@db.example:5432/muse rejected the password of user alice; check DATABASE_URL',
    );
  });

  it('an idle pooled connection killed by the server (57P01, as on a restart) does not crash the process; the next query reconnects', async () => {
    const name = `muse-test-${process.pid}-${Date.now()}`;
    const u = new URL(env().databaseUrl);
    u.searchParams.set('application_name', name);
    const pool = createPool(u.toString(), 3);
    const admin = new pg.Client({ connectionString: env().databaseUrl });
    await admin.connect();
    try {
      await Promise.all([pool.query('SELECT 1'), pool.query('SELECT 2'), pool.query('SELECT 3')]);
      const killed = await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
        [name],
      );
      expect(killed.rowCount).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 500));
      expect((await pool.query('SELECT 42 AS n')).rows[0].n).toBe(42);

      // The same inside a transaction, killed between two of its queries: the transaction fails, the process lives.
      const tx = inTransaction(pool, async (c) => {
        await c.query('SELECT 1');
        await new Promise((r) => setTimeout(r, 800));
        await c.query('SELECT 2');
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(
        (
          await admin.query(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle in transaction'`,
            [name],
          )
        ).rowCount,
      ).toBe(1);
      await expect(tx).rejects.toThrow();
      await new Promise((r) => setTimeout(r, 300));
      expect((await pool.query('SELECT 43 AS n')).rows[0].n).toBe(43);
    } finally {
      await admin.end();
      await pool.end();
    }
  });
});

describe('connections to Temporal', () => {
  /** A TCP front of the test's Temporal server that holds each connection `delayMs` before it passes it on (or never). */
  async function slowFront(delayMs: number | 'never'): Promise<string> {
    const [host, port] = env().temporalAddress.split(':');
    const front = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.pause();
      if (delayMs === 'never') return;
      setTimeout(() => {
        const upstream = net.connect(Number(port), host, () => {
          socket.pipe(upstream).pipe(socket);
          socket.resume();
        });
        upstream.on('error', () => socket.destroy());
        socket.on('close', () => upstream.destroy());
      }, delayMs);
    });
    servers.push(front);
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', () => r()));
    return `127.0.0.1:${(front.address() as net.AddressInfo).port}`;
  }

  it('a server slow to accept (2.5 s a connection, as on a busy machine) is waited for; one that never answers is named within the bound', async () => {
    const slow = await muse({ TEMPORAL_ADDRESS: await slowFront(2_500) }, 'status', 'no-such-batch');
    expect(slow.stderr).not.toMatch(/does not answer/);
    expect(slow.stderr).toMatch(/no-such-batch/);

    const silent = await muse(
      { TEMPORAL_ADDRESS: await slowFront('never'), MUSE_TEMPORAL_CONNECT_SECONDS: '3' },
      'status',
      'no-such-batch',
    );
    expect(silent.code).toBe(1);
    const lines = silent.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^muse: Temporal at 127\.0\.0\.1:\d+ does not answer \(tried for 3 s\)/);
    expect(silent.ms).toBeLessThan(15_000);
  });
});
