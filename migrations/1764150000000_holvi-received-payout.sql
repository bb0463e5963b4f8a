-- Up Migration

-- The payouts Holvi received from Expenzy. The original columns, plus:
--  * a unique constraint on expenzy_uuid: the "small addition" that makes recording idempotent;
--  * received_at / processing_confirmed_at: when we stored it, and when Expenzy confirmed
--    `processing` (NULL until then, which is how a later pass finds what is left to mark).
CREATE TABLE holvi_received_payout (
  id bigserial PRIMARY KEY,
  expenzy_uuid uuid NOT NULL,
  create_time timestamptz NOT NULL,
  amount numeric(16, 2) NOT NULL CHECK (amount > 0),
  recipient_account_identifier varchar(20) NOT NULL,
  received_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  processing_confirmed_at timestamptz,
  CONSTRAINT holvi_received_payout_expenzy_uuid_key UNIQUE (expenzy_uuid)
);

CREATE INDEX holvi_received_payout_unconfirmed_idx
  ON holvi_received_payout (expenzy_uuid) WHERE processing_confirmed_at IS NULL;

-- Payouts that failed validation: kept with their raw JSON and the reason, never in
-- holvi_received_payout. raw_sha256 makes quarantining idempotent (the partner lists the
-- same bad payout again until it is set to `error`).
CREATE TABLE holvi_rejected_payout (
  id bigserial PRIMARY KEY,
  raw_sha256 text NOT NULL UNIQUE,
  expenzy_id text,
  raw jsonb NOT NULL,
  reason text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  partner_error_set_at timestamptz,
  partner_error_failure text
);

-- The services connect as holvi_app, which may read and write rows but not change the schema
-- or delete anything. Granted only where that role exists (a managed database may name it otherwise).
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'holvi_app') THEN
    GRANT SELECT, INSERT, UPDATE ON holvi_received_payout, holvi_rejected_payout TO holvi_app;
    GRANT USAGE ON SEQUENCE holvi_received_payout_id_seq, holvi_rejected_payout_id_seq TO holvi_app;
  END IF;
END $$;

-- Down Migration

DROP TABLE holvi_rejected_payout;
DROP TABLE holvi_received_payout;
