import fp from 'fastify-plugin';
import type pg from 'pg';

declare module 'fastify' {
  interface FastifyInstance {
    /** Holvi's database, as the API's role (`holvi_app`). */
    db: pg.Pool;
  }
}

/** The caller owns the pool: closing the app does not end it. */
export const databasePlugin = fp<{ pool: pg.Pool }>(
  async (app, { pool }) => {
    app.decorate('db', pool);
  },
  { name: 'database' },
);
