import { pino, type Logger } from 'pino';

/** Structured JSON logs; secrets are redacted wherever they could appear. */
export function createLogger(name: string, level: string): Logger {
  return pino({
    name,
    level,
    redact: [
      'req.headers["x-webhook-token"]',
      'req.query.token',
      'headers.authorization',
      '*.password',
      'config.EXPENZY_API_KEY',
      'config.EXPENZY_WEBHOOK_TOKEN',
    ],
  });
}
