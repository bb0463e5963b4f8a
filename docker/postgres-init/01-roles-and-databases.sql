-- The roles and databases scripts/postgres.sh creates for the local stack, plus Temporal's user.
-- holvi_owner runs Holvi's migrations and owns its tables; holvi_app is what the services connect
-- as (the migrations grant it what it needs); expenzy is the partner simulator's.
-- Runs once, when the postgres volume is empty.
CREATE ROLE holvi_owner LOGIN PASSWORD 'holvi_owner' CREATEDB;
CREATE ROLE holvi_app LOGIN PASSWORD 'holvi_app';
CREATE ROLE expenzy LOGIN PASSWORD 'expenzy' CREATEDB;
-- docker-compose.yml's temporal-schema step creates its databases (temporal, temporal_visibility).
CREATE ROLE temporal LOGIN PASSWORD 'temporal' CREATEDB;

CREATE DATABASE holvi OWNER holvi_owner;
CREATE DATABASE expenzy OWNER expenzy;
