import { loadConfig } from '../src/config.js';
import { expenzyClientFromConfig } from '../src/partner/expenzy-client.js';

/**
 * Checks that the partner at EXPENZY_API_BASE_URL answers, with a call that changes nothing: the
 * list of `notifying` payouts the worker's first pass asks for, through Holvi's own client (its
 * API key, timeout, size cap and TLS). scripts/stack.sh runs it instead of starting the simulator
 * when EXPENZY_API_BASE_URL points elsewhere.
 *
 *   npx tsx tools/partner-check.ts      exit 0: answered (prints how many payouts wait); 1: did not
 */
export async function checkPartner(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const config = loadConfig(env);
  const partner = expenzyClientFromConfig(config);
  try {
    // Streamed and counted, as the worker reads it: a large backlog is never held whole.
    return (await partner.forEachListed('notifying', 1_000, async () => undefined)).entries;
  } finally {
    await partner.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const waiting = await checkPartner();
    console.log(`partner answered the list call: ${waiting} payouts in notifying`);
  } catch (error) {
    console.error(`partner check failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
