// Healthcheck of our Node containers (node:24-slim has no curl): exit 0 when the URL answers 2xx.
const url = process.argv[2];
try {
  const response = await fetch(url, { signal: AbortSignal.timeout(3_000) });
  process.exit(response.ok ? 0 : 1);
} catch {
  process.exit(1);
}
