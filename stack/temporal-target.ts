import type { NativeConnectionOptions } from '@temporalio/worker';
import { loadClientConnectConfig } from '@temporalio/envconfig';

/**
 * Where Temporal is and how to reach it, the way Temporal's own CLI and SDKs read it: TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_* (client cert and key, server CA, server name),
 * TEMPORAL_PROFILE and the temporal.toml file (TEMPORAL_CONFIG_FILE, or ~/.config/temporalio/temporal.toml).
 * An address named nowhere there is the stack's (`muse up`).
 */
export interface TemporalTarget {
  address: string;
  namespace: string;
  /** What both the client and the workers connect with: address, TLS, API key, gRPC metadata. */
  connectionOptions: NativeConnectionOptions & { address: string };
  /** The Web UI: MUSE_TEMPORAL_UI_URL, Temporal Cloud's for a Cloud address, else the stack's. */
  uiUrl: string;
}

export function temporalTarget(
  fallback: { address: string; uiUrl: string },
  env: NodeJS.ProcessEnv = process.env,
): TemporalTarget {
  const vars = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
  let loaded: ReturnType<typeof loadClientConnectConfig>;
  try {
    loaded = loadClientConnectConfig({ profile: env.TEMPORAL_PROFILE, overrideEnvVars: vars });
  } catch (e) {
    throw new Error(`the Temporal connection settings cannot be read: ${(e as Error).message}`, { cause: e });
  }
  const address = loaded.connectionOptions.address ?? fallback.address;
  const namespace = loaded.namespace ?? 'default';
  const cloud = /\.tmprl\.cloud(:\d+)?$/.test(address);
  return {
    address,
    namespace,
    connectionOptions: { ...loaded.connectionOptions, address },
    uiUrl: (env.MUSE_TEMPORAL_UI_URL ?? (cloud ? 'https://cloud.temporal.io' : fallback.uiUrl)).replace(/\/$/, ''),
  };
}
