import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createPool, migrate } from '../db/pool';
import { freePort } from '../stack/ports';
import { importDemoCatalog } from '../catalog/demo';
import { copyDatabase, stage1, templateName } from './helpers';
import { ensureDatabase, startEmbeddedPostgres, type RunningPostgres } from '../stack/postgres';
import { startDevServer, waitForTemporal } from '../stack/temporal';
import { ensureTemporalCli } from '../stack/temporal-cli';
import { ensureChromium } from '../stack/chromium';

export { freePort };

/**
 * One in-memory Temporal dev server and one fresh database for the whole run: DATABASE_URL's server
 * when set (a new database on it), otherwise an embedded PostgreSQL. Test files reach them through
 * the environment, as the CLI does.
 */
export default async function setup() {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'muse-test-'));
  // As root, embedded PostgreSQL runs as the postgres user, who must be able to enter the folder.
  fs.chmodSync(home, 0o755);
  process.env.MUSE_HOME = home;
  // The viewer's test drives a real browser: installed here when missing, so `npm test` needs nothing else.
  process.env.CHROMIUM_PATH = ensureChromium(console.log);
  const address = `127.0.0.1:${await freePort()}`;
  const temporal = startDevServer({
    cli: await ensureTemporalCli(console.log),
    port: Number(address.split(':')[1]),
    uiPort: await freePort(),
    logFile: path.join(home, 'logs', 'temporal.log'),
  });
  let postgres: RunningPostgres | undefined;
  try {
    await waitForTemporal(address, 60_000, temporal);
    let url: string;
    let dropDatabase = async () => {};
    if (process.env.DATABASE_URL) {
      const u = new URL(process.env.DATABASE_URL);
      u.pathname = `/muse_test_${process.pid}`;
      url = u.toString();
      const adminUrl = process.env.DATABASE_URL;
      dropDatabase = async () => {
        const admin = new pg.Client({ connectionString: adminUrl });
        await admin.connect();
        for (const db of [u.pathname.slice(1), templateName(u.toString())])
          await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(db)} WITH (FORCE)`);
        await admin.end();
      };
    } else {
      postgres = await startEmbeddedPostgres(path.join(home, 'pg'), await freePort());
      url = postgres.url;
    }
    await ensureDatabase(url);
    await migrate(url);
    const pool = createPool(url);
    await importDemoCatalog(pool);
    await stage1(pool);
    await pool.end();
    // The catalog and stage 1 take under a minute on 20,800 items: databases of their own start as copies.
    await copyDatabase(url, templateName(url));

    process.env.TEMPORAL_ADDRESS = address;
    process.env.DATABASE_URL = url;
    return async () => {
      temporal.kill('SIGTERM');
      await postgres?.stop();
      await dropDatabase();
      fs.rmSync(home, { recursive: true, force: true });
    };
  } catch (e) {
    // A setup that fails half-way must not leave its servers running.
    temporal.kill('SIGTERM');
    await postgres?.stop();
    throw e;
  }
}
