import { loadClientConnectConfig, type ClientConnectConfig } from '@temporalio/envconfig';
import { defaultPorts } from '../../config/ports.js';

/**
 * Where and how to reach Temporal, read the way the `temporal` CLI reads it (@temporalio/envconfig):
 * the profile `TEMPORAL_PROFILE` (else `default`) of the TOML file `TEMPORAL_CONFIG_FILE` (else
 * ~/.config/temporalio/temporal.toml, when it exists), then these variables over it:
 * TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS, TEMPORAL_TLS_CLIENT_CERT_PATH,
 * TEMPORAL_TLS_CLIENT_KEY_PATH, TEMPORAL_TLS_SERVER_CA_CERT_PATH, TEMPORAL_TLS_SERVER_NAME (and
 * their `_DATA` forms), TEMPORAL_GRPC_META_*. An API key turns TLS on. Without any of them: the
 * local dev server (config/ports.json's `temporal` port on 127.0.0.1), namespace `default`.
 */
export interface TemporalConnection {
  address: string;
  namespace: string;
  /** For `NativeConnection.connect`, `Connection.connect` and `Connection.lazy`. */
  connectionOptions: ClientConnectConfig['connectionOptions'] & { address: string };
  /** Where it came from, for logs (no secret). */
  describe: { address: string; namespace: string; tls: boolean; apiKey: boolean; profile?: string };
}

export const DEFAULT_TEMPORAL_ADDRESS = `127.0.0.1:${defaultPorts.temporal}`;

/** Throws an Error that names the file or profile at fault (unknown profile, bad TOML, missing certificate). */
export function temporalConnectionFromEnv(env: Record<string, string | undefined>): TemporalConnection {
  const vars = Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '',
    ),
  );
  const loaded = loadClientConnectConfig({ overrideEnvVars: vars });
  const address = loaded.connectionOptions.address ?? DEFAULT_TEMPORAL_ADDRESS;
  const namespace = loaded.namespace ?? 'default';
  const tls = loaded.connectionOptions.tls;
  return {
    address,
    namespace,
    connectionOptions: { ...loaded.connectionOptions, address },
    describe: {
      address,
      namespace,
      tls: tls !== undefined && tls !== false && tls !== null,
      apiKey: loaded.connectionOptions.apiKey !== undefined,
      ...(vars.TEMPORAL_PROFILE ? { profile: vars.TEMPORAL_PROFILE } : {}),
    },
  };
}
