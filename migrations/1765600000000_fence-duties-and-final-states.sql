-- Up Migration

-- The fence keeps its duties in the row, not in a holder's memory (src/fence/fence-sql.ts).
-- send_window_ms: how long after its session last answered a call of the current holder may
-- still land at the partner (its lease plus its EXPENZY_CALL_TIMEOUT). A holder that takes the
-- fence over from one that never released writes the wait it owes into quiet_until at once,
-- with the longer of the two windows: should it be cancelled or die while waiting, the next
-- holder inherits the rest of that wait instead of listing while the dead holder's calls land.
ALTER TABLE holvi_sync_fence ADD COLUMN send_window_ms integer;

-- A recorded payout the partner lists in state `error` (it was never Holvi's to set): a final
-- state, kept with its reason in processing_failure, so that later passes stop looking for it
-- (without it every pass lists every such payout, for ever).
ALTER TABLE holvi_received_payout ADD COLUMN partner_error_seen_at timestamptz;
DROP INDEX holvi_received_payout_unconfirmed_idx;
CREATE INDEX holvi_received_payout_unconfirmed_idx
  ON holvi_received_payout (expenzy_uuid) WHERE processing_confirmed_at IS NULL AND partner_error_seen_at IS NULL;

-- A quarantined payout whose `error` update the partner refused for a while (a 404, `[]`, a 401
-- during a key rotation) is tried again after partner_error_retry_at, backing off with
-- partner_error_attempts; a refusal that cannot change (no id to address it by) has no retry
-- time and is final.
ALTER TABLE holvi_rejected_payout ADD COLUMN partner_error_attempts integer NOT NULL DEFAULT 0;
ALTER TABLE holvi_rejected_payout ADD COLUMN partner_error_retry_at timestamptz;

-- Settling quarantined payouts looks only at the open ones (an `error` sent, no answer kept),
-- each found by index in the pass's stage.
CREATE INDEX holvi_rejected_payout_open_idx ON holvi_rejected_payout (id)
  WHERE partner_error_set_at IS NULL AND partner_error_failure IS NULL;
CREATE INDEX holvi_pass_rejected_expenzy_id_idx ON holvi_pass_rejected (pass_id, expenzy_id);

-- The pass's valid payouts are staged by COPY (src/db/payout-stage.ts), which has no ON
-- CONFLICT: an id listed twice is staged twice, and only its first seq is claimed for sending.
ALTER TABLE holvi_pass_payout DROP CONSTRAINT holvi_pass_payout_pass_id_expenzy_uuid_key;
CREATE INDEX holvi_pass_payout_expenzy_uuid_idx ON holvi_pass_payout (pass_id, expenzy_uuid, seq);
-- Room in each page for the claim's update of sent_at (not indexed): a heap-only update, so a
-- million claims add no index entries.
ALTER TABLE holvi_pass_payout SET (fillfactor = 80);

-- Down Migration

ALTER TABLE holvi_pass_payout RESET (fillfactor);
DROP INDEX holvi_pass_payout_expenzy_uuid_idx;
DELETE FROM holvi_pass_payout;
ALTER TABLE holvi_pass_payout ADD CONSTRAINT holvi_pass_payout_pass_id_expenzy_uuid_key UNIQUE (pass_id, expenzy_uuid);

DROP INDEX holvi_pass_rejected_expenzy_id_idx;
DROP INDEX holvi_rejected_payout_open_idx;
ALTER TABLE holvi_rejected_payout DROP COLUMN partner_error_retry_at;
ALTER TABLE holvi_rejected_payout DROP COLUMN partner_error_attempts;
DROP INDEX holvi_received_payout_unconfirmed_idx;
CREATE INDEX holvi_received_payout_unconfirmed_idx
  ON holvi_received_payout (expenzy_uuid) WHERE processing_confirmed_at IS NULL;
ALTER TABLE holvi_received_payout DROP COLUMN partner_error_seen_at;
ALTER TABLE holvi_sync_fence DROP COLUMN send_window_ms;
