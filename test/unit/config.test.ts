import { describe, expect, it } from 'vitest';
import { defaultPorts } from '../../config/ports.js';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it("reads durations in the ms package's forms, as Temporal does", () => {
    const config = loadConfig({
      RECONCILE_INTERVAL: '2m',
      SIGNAL_MIN_INTERVAL: '250ms',
      EXPENZY_CALL_TIMEOUT: '3 s',
    });
    expect(config.RECONCILE_INTERVAL).toBe(120_000);
    expect(config.SIGNAL_MIN_INTERVAL).toBe(250);
    expect(config.EXPENZY_CALL_TIMEOUT).toBe(3_000);
    expect(loadConfig({ RECONCILE_INTERVAL: '1h' }).RECONCILE_INTERVAL).toBe(3_600_000);
    expect(loadConfig({ RECONCILE_INTERVAL: '24h' }).RECONCILE_INTERVAL).toBe(86_400_000);
    expect(loadConfig({ RECONCILE_INTERVAL: '1.5s' }).RECONCILE_INTERVAL).toBe(1_500);
    expect(loadConfig({ SIGNAL_MIN_INTERVAL: '100 ms' }).SIGNAL_MIN_INTERVAL).toBe(100);
    expect(loadConfig({ SIGNAL_MIN_INTERVAL: '0' }).SIGNAL_MIN_INTERVAL).toBe(0);
  });

  it('falls back to the defaults', () => {
    const config = loadConfig({});
    expect(config.RECONCILE_INTERVAL).toBe(30_000);
    expect(config.SIGNAL_MIN_INTERVAL).toBe(100);
    expect(config.EXPENZY_CALL_TIMEOUT).toBe(10_000);
  });

  it('refuses a bare number (seconds or milliseconds?) and keeps the bounds', () => {
    expect(() => loadConfig({ EXPENZY_CALL_TIMEOUT: '3' })).toThrow(
      /EXPENZY_CALL_TIMEOUT: "3" is not a duration with a unit/,
    );
    expect(() => loadConfig({ RECONCILE_INTERVAL: '999ms' })).toThrow(
      /RECONCILE_INTERVAL: "999ms" is outside/,
    );
    expect(() => loadConfig({ RECONCILE_INTERVAL: '25h' })).toThrow(/RECONCILE_INTERVAL: "25h" is outside/);
    expect(() => loadConfig({ RECONCILE_INTERVAL: '-1s' })).toThrow(/not a duration/);
  });

  it('names the variable of a bad value and does not start', () => {
    expect(() => loadConfig({ RECONCILE_INTERVAL: 'soon' })).toThrow(
      /RECONCILE_INTERVAL: "soon" is not a duration/,
    );
    expect(() => loadConfig({ RECONCILE_INTERVAL: '500ms' })).toThrow(ConfigError);
    expect(() => loadConfig({ RECONCILE_INTERVAL: '2000m' })).toThrow(
      /RECONCILE_INTERVAL: "2000m" is outside/,
    );
    expect(() => loadConfig({ FETCH_BATCH_SIZE: '0' })).toThrow(/FETCH_BATCH_SIZE/);
  });

  it('bounds the partner answers held whole apart from the streamed list', () => {
    const defaults = loadConfig({});
    expect(defaults.EXPENZY_MAX_BUFFERED_RESPONSE_BYTES).toBe(1024 * 1024);
    expect(defaults.EXPENZY_MAX_LIST_RESPONSE_BYTES).toBe(256 * 1024 * 1024);
    const set = loadConfig({
      EXPENZY_MAX_BUFFERED_RESPONSE_BYTES: '65536',
      EXPENZY_MAX_LIST_RESPONSE_BYTES: '1048576',
    });
    expect(set.EXPENZY_MAX_BUFFERED_RESPONSE_BYTES).toBe(65_536);
    expect(set.EXPENZY_MAX_LIST_RESPONSE_BYTES).toBe(1_048_576);

    expect(() => loadConfig({ EXPENZY_MAX_BUFFERED_RESPONSE_BYTES: '1023' })).toThrow(
      /EXPENZY_MAX_BUFFERED_RESPONSE_BYTES/,
    );
    expect(() => loadConfig({ EXPENZY_MAX_BUFFERED_RESPONSE_BYTES: String(64 * 1024 * 1024 + 1) })).toThrow(
      /EXPENZY_MAX_BUFFERED_RESPONSE_BYTES/,
    );
    expect(() => loadConfig({ EXPENZY_MAX_LIST_RESPONSE_BYTES: '1048575' })).toThrow(
      /EXPENZY_MAX_LIST_RESPONSE_BYTES/,
    );
    expect(() =>
      loadConfig({
        EXPENZY_MAX_BUFFERED_RESPONSE_BYTES: String(2 * 1024 * 1024),
        EXPENZY_MAX_LIST_RESPONSE_BYTES: String(1024 * 1024),
      }),
    ).toThrow(/EXPENZY_MAX_LIST_RESPONSE_BYTES: 1048576 is below EXPENZY_MAX_BUFFERED_RESPONSE_BYTES/);
    // One figure for both would leave one of them wrong: the old variable is refused, not ignored.
    expect(() => loadConfig({ EXPENZY_MAX_RESPONSE_BYTES: '268435456' })).toThrow(
      /EXPENZY_MAX_RESPONSE_BYTES: is not read: set EXPENZY_MAX_LIST_RESPONSE_BYTES/,
    );
  });

  it('listens on the ports of config/ports.json, the SDK exporter on a port of its own', () => {
    const defaults = loadConfig({});
    expect(defaults.HOLVI_API_PORT).toBe(defaultPorts.api);
    expect(defaults.WORKER_METRICS_PORT).toBe(defaultPorts.workerMetrics);
    expect(defaults.WORKER_SDK_METRICS_PORT).toBe(defaultPorts.workerSdkMetrics);
    expect(defaults.EXPENZY_API_BASE_URL).toBe(`http://127.0.0.1:${defaultPorts.expenzy}`);
    expect(defaults.HOLVI_DATABASE_URL).toContain(`@127.0.0.1:${defaultPorts.postgres}/`);
    expect(loadConfig({ WORKER_SDK_METRICS_PORT: '16003' }).WORKER_SDK_METRICS_PORT).toBe(16_003);

    expect(() => loadConfig({ WORKER_SDK_METRICS_PORT: '0' })).toThrow(/WORKER_SDK_METRICS_PORT/);
    expect(() => loadConfig({ WORKER_SDK_METRICS_PORT: '65536' })).toThrow(/WORKER_SDK_METRICS_PORT/);
    expect(() => loadConfig({ WORKER_SDK_METRICS_PORT: 'metrics' })).toThrow(/WORKER_SDK_METRICS_PORT/);
    expect(() => loadConfig({ WORKER_METRICS_PORT: '7000', WORKER_SDK_METRICS_PORT: '7000' })).toThrow(
      /WORKER_SDK_METRICS_PORT: 7000 is WORKER_METRICS_PORT too/,
    );
  });
});
