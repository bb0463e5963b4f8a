-- Up Migration

-- A pass replaces the staged rows wholesale (a new pass_id, the older passes' rows dropped), so
-- the planner's statistics of the staging tables always describe a pass that is gone: it
-- expects one row for the new pass_id and joins a chunk against the whole pass in a nested loop,
-- which makes every MarkProcessing chunk cost time in proportion to the backlog. The pass
-- refreshes them right after staging (src/db/payout-store.ts, refreshPassStatistics), as one
-- does after any bulk load. ANALYZE needs the tables' owner: the service role may run this one
-- function, which can do nothing else.
CREATE FUNCTION holvi_analyze_pass_stage() RETURNS void
  LANGUAGE sql
  SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$ ANALYZE public.holvi_pass_payout, public.holvi_pass_rejected $$;

REVOKE ALL ON FUNCTION holvi_analyze_pass_stage() FROM PUBLIC;

DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'holvi_app') THEN
    GRANT EXECUTE ON FUNCTION holvi_analyze_pass_stage() TO holvi_app;
  END IF;
END $$;

-- Down Migration

DROP FUNCTION holvi_analyze_pass_stage();
