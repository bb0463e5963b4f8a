import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('reads durations with or without a unit (a bare number is seconds)', () => {
    const config = loadConfig({
      RECONCILE_INTERVAL: '2m',
      SIGNAL_MIN_INTERVAL: '250ms',
      EXPENZY_CALL_TIMEOUT: '3',
    });
    expect(config.RECONCILE_INTERVAL).toBe(120_000);
    expect(config.SIGNAL_MIN_INTERVAL).toBe(250);
    expect(config.EXPENZY_CALL_TIMEOUT).toBe(3_000);
  });

  it('falls back to the defaults', () => {
    const config = loadConfig({});
    expect(config.RECONCILE_INTERVAL).toBe(30_000);
    expect(config.SIGNAL_MIN_INTERVAL).toBe(100);
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
});
