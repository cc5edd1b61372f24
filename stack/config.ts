import os from 'node:os';
import path from 'node:path';

/** Every knob the project reads from the environment, in one place (documented in the README). */
export const config = {
  /** State folder: Temporal's SQLite file, embedded PostgreSQL, image store, logs. Read at use, so tests can move it. */
  get home() {
    return path.resolve(process.env.MUSE_HOME ?? path.join(__dirname, '..', '.muse'));
  },
  cacheDir: path.resolve(
    process.env.MUSE_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'muse'),
  ),
  temporalAddress: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
  temporalNamespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
  temporalUiPort: Number(process.env.TEMPORAL_UI_PORT ?? 8233),
  temporalCliPath: process.env.TEMPORAL_CLI_PATH,
  /**
   * Where the Temporal CLI's release archive is fetched from: a folder laid out as Temporal's GitHub
   * releases (`<base>/v<version>/temporal_cli_<version>_<os>_<arch>.tar.gz`), for a network that cannot
   * reach GitHub. Its archive must match the pinned checksum, or MUSE_TEMPORAL_CLI_SHA256 for a build of your own.
   */
  temporalCliMirror: process.env.MUSE_TEMPORAL_CLI_MIRROR ?? 'https://github.com/temporalio/cli/releases/download',
  temporalCliSha256: process.env.MUSE_TEMPORAL_CLI_SHA256,
  /** The Go toolchain that builds the Temporal CLI when no archive can be had; set empty never to build. */
  goBinary: process.env.MUSE_GO,
  /** A download that sends nothing for this long (no answer, or a stalled body) is given up. */
  downloadStallSeconds: Number(process.env.MUSE_DOWNLOAD_STALL_SECONDS ?? 30),
  taskQueue: process.env.MUSE_TASK_QUEUE ?? 'muse',
  /** Activities in flight per worker and queue: an LLM call waits on the network, so hundreds fit. */
  maxActivities: Number(process.env.MUSE_MAX_ACTIVITIES ?? 400),
  /** A worker's JS heap is collected when it grows past this (MB; 0: leave it to V8), see stack/heap.ts. */
  heapMb: Number(process.env.MUSE_HEAP_MB ?? 160),
  databaseUrl: process.env.DATABASE_URL,
  embeddedPgPort: Number(process.env.MUSE_PG_PORT ?? 5433),
  /**
   * How long a command keeps trying to reach Temporal before it says it does not answer: a busy 2-core
   * machine can take seconds to accept a connection from a server that is up.
   */
  temporalConnectSeconds: Number(process.env.MUSE_TEMPORAL_CONNECT_SECONDS ?? 15),
};

export const paths = {
  stackState: () => path.join(config.home, 'stack.json'),
  temporalDb: () => path.join(config.home, 'temporal', 'temporal.db'),
  pgData: () => path.join(config.home, 'pg'),
  images: () => process.env.MUSE_IMAGE_DIR ?? path.join(config.home, 'images'),
  logs: () => path.join(config.home, 'logs'),
};

export const uiUrl = (address = config.temporalAddress, uiPort = config.temporalUiPort) =>
  `http://${address.split(':')[0]}:${uiPort}`;
