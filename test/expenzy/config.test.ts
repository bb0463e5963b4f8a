import { describe, expect, it } from 'vitest';
import { defaultPorts } from '../../config/ports.js';
import { loadConfig } from '../../expenzy/config.js';
import { defaultKnobs } from '../../expenzy/knobs.js';

describe('loadConfig', () => {
  it('defaults everything', () => {
    expect(loadConfig({})).toEqual({
      databaseUrl: `postgres://expenzy:expenzy@127.0.0.1:${defaultPorts.postgres}/expenzy`,
      host: '127.0.0.1',
      port: defaultPorts.expenzy,
      adminEnabled: false,
      seed: undefined,
      outageSeconds: 0,
      knobs: defaultKnobs,
      logLevel: 'info',
    });
    expect(defaultKnobs).toMatchObject({ failureRate: 0.05, failAfterCommitRate: 0, latencyMs: '0' });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      EXPENZY_DATABASE_URL: 'postgres://u:p@db:5432/x',
      EXPENZY_HOST: '0.0.0.0',
      EXPENZY_PORT: '6001',
      EXPENZY_ADMIN_ENABLED: 'true',
      EXPENZY_SEED: '42',
      EXPENZY_OUTAGE_SECONDS: '2.5',
      EXPENZY_FAILURE_RATE: '0.2',
      EXPENZY_FAIL_AFTER_COMMIT_RATE: '0.1',
      EXPENZY_LATENCY_MS: '1000-3000',
      EXPENZY_LIST_LATENCY_MS: '20',
      EXPENZY_LIST_FAILURE_RATE: '0.3',
      EXPENZY_REFUSE_UPDATES: '404',
      EXPENZY_MALFORMED_RATE: '0.01',
      EXPENZY_MALFORMED_KINDS: 'bad_id, missing_field',
      EXPENZY_TIME_FORMAT: 'http-date',
      EXPENZY_AMOUNT_AS_NUMBER: '1',
      LOG_LEVEL: 'warn',
    });
    expect(config).toEqual({
      databaseUrl: 'postgres://u:p@db:5432/x',
      host: '0.0.0.0',
      port: 6001,
      adminEnabled: true,
      seed: 42,
      outageSeconds: 2.5,
      knobs: {
        failureRate: 0.2,
        failAfterCommitRate: 0.1,
        latencyMs: '1000-3000',
        listLatencyMs: '20',
        listFailureRate: 0.3,
        refuseUpdates: '404',
        malformedRate: 0.01,
        malformedKinds: ['bad_id', 'missing_field'],
        timeFormat: 'http-date',
        amountAsNumber: true,
      },
      logLevel: 'warn',
    });
  });

  it('takes an empty variable as unset', () => {
    expect(loadConfig({ EXPENZY_SEED: '', EXPENZY_MALFORMED_KINDS: '', EXPENZY_PORT: '' })).toMatchObject({
      seed: undefined,
      port: defaultPorts.expenzy,
      knobs: { malformedKinds: defaultKnobs.malformedKinds },
    });
  });

  it.each([
    ['EXPENZY_PORT', 'http'],
    ['EXPENZY_PORT', '70000'],
    ['EXPENZY_ADMIN_ENABLED', 'maybe'],
    ['EXPENZY_SEED', '1.5'],
    ['EXPENZY_FAILURE_RATE', '2'],
    ['EXPENZY_FAIL_AFTER_COMMIT_RATE', 'often'],
    ['EXPENZY_LATENCY_MS', '3000-1000'],
    ['EXPENZY_LATENCY_MS', '1s'],
    ['EXPENZY_LIST_FAILURE_RATE', '-1'],
    ['EXPENZY_LIST_LATENCY_MS', 'slow'],
    ['EXPENZY_REFUSE_UPDATES', 'yes'],
    ['EXPENZY_MALFORMED_RATE', '1.1'],
    ['EXPENZY_MALFORMED_KINDS', 'bad_id,nope'],
    ['EXPENZY_TIME_FORMAT', 'unix'],
    ['EXPENZY_AMOUNT_AS_NUMBER', 'yes please'],
    ['EXPENZY_OUTAGE_SECONDS', '-3'],
    ['EXPENZY_DATABASE_URL', 'not a url'],
    ['LOG_LEVEL', 'loud'],
  ])('names the bad variable %s=%s', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^Invalid .*\\n  ${name}`));
  });

  it('names every bad variable at once', () => {
    expect(() => loadConfig({ EXPENZY_PORT: 'x', EXPENZY_TIME_FORMAT: 'y' })).toThrow(
      /EXPENZY_PORT[\s\S]*EXPENZY_TIME_FORMAT/,
    );
  });
});
