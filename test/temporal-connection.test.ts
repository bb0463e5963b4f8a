import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createSyncClient } from '../src/temporal/sync-client.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { freePort } from '../tools/stack/ports.js';

// The services reach Temporal the way the `temporal` CLI does (@temporalio/envconfig): a profile
// of temporal.toml, overridden by TEMPORAL_* variables. Here against the suite's dev server, in
// the clear and through a TLS front (mutual TLS with certificates made for the test), since the
// dev server itself serves no TLS.

let dir: string;
const file = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'temporal-profile-'));
  writeFileSync(
    file('temporal.toml'),
    [
      '[profile.default]',
      `address = "127.0.0.1:${await freePort()}"`, // nothing listens: the named profile must win
      '',
      '[profile.ci]',
      `address = "${inject('temporalAddress')}"`,
      'namespace = "default"',
    ].join('\n'),
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the Temporal connection from a temporal.toml profile', () => {
  it('connects the API gateway, a client and a worker connection through TEMPORAL_PROFILE', async () => {
    const config = loadConfig({ TEMPORAL_CONFIG_FILE: file('temporal.toml'), TEMPORAL_PROFILE: 'ci' });
    expect(config.TEMPORAL_ADDRESS).toBe(inject('temporalAddress'));
    expect(config.temporal.describe).toEqual({
      address: inject('temporalAddress'),
      namespace: 'default',
      tls: false,
      apiKey: false,
      profile: 'ci',
    });

    const gateway = createSyncClient(config);
    expect(await gateway.healthy()).toBe(true);
    await gateway.close();

    const connection = await Connection.connect(config.temporal.connectionOptions);
    const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
    const described = await client.workflowService.describeNamespace({
      namespace: config.TEMPORAL_NAMESPACE,
    });
    expect(described.namespaceInfo?.name).toBe('default');
    await connection.close();

    const native = await NativeConnection.connect(config.temporal.connectionOptions);
    await native.close();
  });

  it('lets TEMPORAL_* variables override the profile, as the CLI does', () => {
    const config = loadConfig({
      TEMPORAL_CONFIG_FILE: file('temporal.toml'),
      TEMPORAL_PROFILE: 'ci',
      TEMPORAL_ADDRESS: 'temporal.example:7233',
      TEMPORAL_NAMESPACE: 'payouts',
      TEMPORAL_API_KEY: 'secret-key',
    });
    expect(config.TEMPORAL_ADDRESS).toBe('temporal.example:7233');
    expect(config.TEMPORAL_NAMESPACE).toBe('payouts');
    expect(config.temporal.connectionOptions.apiKey).toBe('secret-key');
    // An API key turns TLS on (Temporal Cloud); the description never holds the key.
    expect(config.temporal.describe).toMatchObject({ tls: true, apiKey: true });
    expect(JSON.stringify(config.temporal.describe)).not.toContain('secret-key');
  });

  it('defaults to the local dev server without a profile or variables', () => {
    const config = loadConfig({});
    expect(config.temporal.connectionOptions).toEqual({ address: '127.0.0.1:7233' });
    expect(config.TEMPORAL_NAMESPACE).toBe('default');
  });

  it('refuses to start with an unknown profile or a missing certificate, naming it', () => {
    expect(() =>
      loadConfig({ TEMPORAL_CONFIG_FILE: file('temporal.toml'), TEMPORAL_PROFILE: 'prod' }),
    ).toThrow(/Temporal connection .*Profile 'prod' not found/);
    expect(() => loadConfig({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('missing-ca.pem') })).toThrow(
      ConfigError,
    );
  });
});

describe('the Temporal connection over mutual TLS', () => {
  let front: TlsServer;
  let frontAddress: string;

  beforeAll(async () => {
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    const ext = (name: string, body: string) => writeFileSync(file(name), body);
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=test-ca',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
    for (const [name, usage] of [
      ['server', 'serverAuth'],
      ['client', 'clientAuth'],
    ] as const) {
      openssl(
        'req',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        `/CN=${name}`,
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.csr`,
      );
      ext(
        `${name}.ext`,
        `basicConstraints=CA:FALSE\nextendedKeyUsage=${usage}\nsubjectAltName=DNS:temporal.test\n`,
      );
      openssl(
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-days',
        '2',
        '-extfile',
        `${name}.ext`,
        '-out',
        `${name}.pem`,
      );
    }
    // TLS in front of the dev server: decrypt, then pass the HTTP/2 bytes on unchanged.
    const [host, port] = inject('temporalAddress').split(':') as [string, string];
    front = createTlsServer(
      {
        key: readFileSync(file('server.key')),
        cert: readFileSync(file('server.pem')),
        ca: readFileSync(file('ca.pem')),
        requestCert: true,
        rejectUnauthorized: true,
        ALPNProtocols: ['h2'],
      },
      (socket) => {
        const upstream = netConnect(Number(port), host);
        socket.pipe(upstream).pipe(socket);
        const close = () => (socket.destroy(), upstream.destroy());
        socket.on('error', close);
        upstream.on('error', close);
      },
    );
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    frontAddress = `127.0.0.1:${(front.address() as { port: number }).port}`;
    writeFileSync(
      file('tls.toml'),
      [
        '[profile.mtls]',
        `address = "${frontAddress}"`,
        'namespace = "default"',
        '[profile.mtls.tls]',
        `server_ca_cert_path = "${file('ca.pem')}"`,
        `client_cert_path = "${file('client.pem')}"`,
        `client_key_path = "${file('client.key')}"`,
        'server_name = "temporal.test"',
      ].join('\n'),
    );
  });

  afterAll(() => new Promise<void>((resolve) => (front ? front.close(() => resolve()) : resolve())));

  it('connects with the certificates named in the profile', async () => {
    const config = loadConfig({ TEMPORAL_CONFIG_FILE: file('tls.toml'), TEMPORAL_PROFILE: 'mtls' });
    expect(config.temporal.describe).toMatchObject({ address: frontAddress, tls: true, apiKey: false });
    const native = await NativeConnection.connect(config.temporal.connectionOptions);
    await native.close();
    const gateway = createSyncClient(config);
    expect(await gateway.healthy()).toBe(true);
    await gateway.close();
  });

  it('is refused without the client certificate', async () => {
    const config = loadConfig({
      TEMPORAL_ADDRESS: frontAddress,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('ca.pem'),
      TEMPORAL_TLS_SERVER_NAME: 'temporal.test',
    });
    const gateway = createSyncClient(config);
    expect(await gateway.healthy()).toBe(false);
    await gateway.close();
  });
});
