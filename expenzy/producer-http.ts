import { request, type Dispatcher } from 'undici';
import { z } from 'zod';

const createdPayouts = z.array(z.object({ id: z.uuid(), malformed_kind: z.string().nullable() })).length(1);

export type CreatedPayout = z.infer<typeof createdPayouts>[number];

/** Long enough for a loaded simulator; a creation that hangs past it stops the run. */
const creationTimeoutMs = 30_000;

/** One payout through the simulator's admin route, which answers only once it is committed. */
export async function createPayout(dispatcher: Dispatcher, expenzyBaseUrl: string): Promise<CreatedPayout> {
  const { statusCode, body } = await request(`${expenzyBaseUrl}/admin/payouts`, {
    dispatcher,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ count: 1 }),
    signal: AbortSignal.timeout(creationTimeoutMs),
  });
  if (statusCode !== 200 && statusCode !== 201) {
    throw new Error(`POST /admin/payouts answered ${statusCode}: ${(await body.text()).slice(0, 200)}`);
  }
  const [payout] = createdPayouts.parse(await body.json());
  return payout!;
}

/**
 * The partner's notification: a GET without payload. Returns why it failed, or undefined
 * when Holvi answered 2xx. Redirects are not followed: calls go only to the configured URL.
 */
export async function sendWebhook(
  dispatcher: Dispatcher,
  holviBaseUrl: string,
  timeoutMs: number,
): Promise<string | undefined> {
  try {
    const { statusCode, body } = await request(`${holviBaseUrl}/expenzy/webhook/`, {
      dispatcher,
      method: 'GET',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await body.dump();
    return statusCode >= 200 && statusCode < 300 ? undefined : `HTTP ${statusCode}`;
  } catch (error) {
    return (error as Error).message;
  }
}
