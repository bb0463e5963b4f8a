import { describe, expect, it } from 'vitest';
import { defaultProducerOptions, OptionError, producerOptionsFrom } from '../../expenzy/producer-options.js';

describe('producerOptionsFrom', () => {
  it('falls back to the defaults, also for empty values', () => {
    expect(producerOptionsFrom({}, [])).toEqual(defaultProducerOptions);
    expect(producerOptionsFrom({ CONCURRENCY: '' }, ['--attempts', ''])).toEqual(defaultProducerOptions);
  });

  it('reads the environment, and flags override it', () => {
    const options = producerOptionsFrom(
      {
        GENERATION_ATTEMPTS: '10',
        CONCURRENCY: '4',
        SLEEP_BETWEEN_PAYOUT: '0.5',
        EXPENZY_API_BASE_URL: 'http://expenzy-server:5001/',
        HOLVI_API_BASE_URL: 'https://holvi.test/api',
        WEBHOOK_DROP_RATE: '0.25',
        WEBHOOK_TIMEOUT_MS: '500',
      },
      ['--attempts', '10000', '--concurrency=100', '--sleep', '0.02'],
    );
    expect(options).toEqual({
      attempts: 10_000,
      concurrency: 100,
      sleepBetweenPayouts: 0.02,
      expenzyBaseUrl: 'http://expenzy-server:5001',
      holviBaseUrl: 'https://holvi.test/api',
      webhookDropRate: 0.25,
      webhookTimeoutMs: 500,
    });
  });

  it.each([
    [{ GENERATION_ATTEMPTS: 'ten' }, [], /GENERATION_ATTEMPTS must be a whole number .* got "ten"/],
    [{}, ['--attempts', '0'], /--attempts must be a whole number from 1/],
    [{ CONCURRENCY: '2.5' }, [], /CONCURRENCY must be a whole number/],
    [{}, ['--sleep=-1'], /--sleep must be a number from 0/],
    [{ WEBHOOK_DROP_RATE: '1.5' }, [], /WEBHOOK_DROP_RATE must be a number from 0 to 1/],
    [{ HOLVI_API_BASE_URL: 'ftp://holvi' }, [], /HOLVI_API_BASE_URL must be an http\(s\) base URL/],
    [{}, ['--attempt', '3'], /Unknown option '--attempt'/],
  ])('rejects %j %j naming the culprit', (env, argv, message) => {
    expect(() => producerOptionsFrom(env, argv)).toThrow(OptionError);
    expect(() => producerOptionsFrom(env, argv)).toThrow(message);
  });
});
