-- Up Migration

-- The fence (docs/architecture.md, "The fence"). Whoever sends anything to Expenzy, or lists
-- what it will decide from, holds the session-level advisory lock keyed by this table's oid
-- (src/fence/sync-fence.ts). This one row says how the last holder left, so that the next one
-- knows whether a call of its may still be in flight, and numbers the lists taken inside the
-- fence: a pass may send only while the epoch is still the one its list was taken in.
CREATE TABLE holvi_sync_fence (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  -- Bumped by every FetchTransactions, inside the fence.
  epoch bigint NOT NULL DEFAULT 0,
  -- Process, workflow and activity of the current (or last) holder, for people.
  holder text,
  acquired_at timestamptz,
  -- Set by a clean release; NULL while held, and still NULL when the holder died holding it.
  released_at timestamptz,
  -- A clean holder whose calls were cut short (cancelled, timed out) asks the next to wait.
  quiet_until timestamptz
);
INSERT INTO holvi_sync_fence DEFAULT VALUES;

-- One row per list taken inside the fence (a pass). recorded_before is the highest
-- holvi_received_payout.id read before the list was taken: only rows up to it may be settled
-- by this list, never a row recorded after it.
CREATE TABLE holvi_sync_pass (
  id bigserial PRIMARY KEY,
  epoch bigint NOT NULL,
  workflow_id text NOT NULL,
  run_id text NOT NULL,
  workflow_pass integer,
  recorded_before bigint NOT NULL,
  started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  listed_at timestamptz,
  listed integer,
  payouts integer,
  rejected integer,
  settle integer
);

-- What a pass listed, staged so that no payout list crosses Temporal or sits in a worker's
-- memory: activities get a pass id and a range of seq. UNLOGGED: a crash of PostgreSQL empties
-- them, which only means the next pass lists again.
CREATE UNLOGGED TABLE holvi_pass_payout (
  pass_id bigint NOT NULL,
  seq integer NOT NULL,
  expenzy_uuid uuid NOT NULL,
  create_time text NOT NULL,
  amount text NOT NULL,
  recipient_account_identifier text NOT NULL,
  -- Set before the update is sent: within one list, a payout is sent at most once.
  sent_at timestamptz,
  PRIMARY KEY (pass_id, seq),
  UNIQUE (pass_id, expenzy_uuid)
);

CREATE UNLOGGED TABLE holvi_pass_rejected (
  pass_id bigint NOT NULL,
  seq integer NOT NULL,
  raw_sha256 text NOT NULL,
  -- The id as listed (bounded), and as a uuid when it is one.
  expenzy_id text,
  expenzy_uuid uuid,
  raw_json text NOT NULL,
  reason text NOT NULL,
  sent_at timestamptz,
  PRIMARY KEY (pass_id, seq),
  UNIQUE (pass_id, raw_sha256)
);

-- Recorded, unconfirmed rows (up to recorded_before) that the pass's list does not show as
-- notifying: the partner applied our update and the answer was lost. in_error: listed as
-- `error` instead, which only a person can explain.
CREATE UNLOGGED TABLE holvi_pass_settle (
  pass_id bigint NOT NULL,
  expenzy_uuid uuid NOT NULL,
  in_error boolean NOT NULL DEFAULT false,
  PRIMARY KEY (pass_id, expenzy_uuid)
);

-- The last time the partner's update failed for good, kept on the row for people.
ALTER TABLE holvi_received_payout ADD COLUMN processing_failure text;

DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'holvi_app') THEN
    GRANT SELECT, UPDATE ON holvi_sync_fence TO holvi_app;
    GRANT SELECT, INSERT, UPDATE, DELETE ON holvi_sync_pass TO holvi_app;
    GRANT SELECT, INSERT, UPDATE, DELETE ON holvi_pass_payout, holvi_pass_rejected, holvi_pass_settle TO holvi_app;
    GRANT USAGE ON SEQUENCE holvi_sync_pass_id_seq TO holvi_app;
  END IF;
END $$;

-- Down Migration

ALTER TABLE holvi_received_payout DROP COLUMN processing_failure;
DROP TABLE holvi_pass_settle;
DROP TABLE holvi_pass_rejected;
DROP TABLE holvi_pass_payout;
DROP TABLE holvi_sync_pass;
DROP TABLE holvi_sync_fence;
