-- Up Migration

-- A payout the parser accepted and PostgreSQL still refused to record (a value outside what a
-- column holds): RecordPayout records the rest of its batch row by row and keeps this one in
-- holvi_rejected_payout with PostgreSQL's reason, refused_uuid set. From then on every pass
-- stages that uuid as malformed (src/db/payout-store.ts, stagePayouts), so it is quarantined and
-- set to `error` like any malformed payout instead of failing every RecordPayout again.
ALTER TABLE holvi_rejected_payout ADD COLUMN refused_uuid uuid;
CREATE UNIQUE INDEX holvi_rejected_payout_refused_uuid_key ON holvi_rejected_payout (refused_uuid);

-- Down Migration

DROP INDEX holvi_rejected_payout_refused_uuid_key;
ALTER TABLE holvi_rejected_payout DROP COLUMN refused_uuid;
