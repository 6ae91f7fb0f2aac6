import knex, { type Knex } from 'knex';
import pg from 'pg';
import type { Logger } from '../log';

export type { Knex } from 'knex';

// bigint (int8) and numeric come back as strings by default; counts and sizes in this schema
// stay far below 2^53, so they are returned as numbers.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));
// A DATE is a calendar day in the clinical sense (a study date, a birth date): keep it a string.
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);

export interface DbOptions {
  url: string;
  log?: Logger;
  poolMax: number;
  applicationName?: string;
}

export function createDb(options: DbOptions): Knex {
  return knex({
    client: 'pg',
    connection: { connectionString: options.url, application_name: options.applicationName ?? 'regional-results-hub' },
    pool: { min: 0, max: options.poolMax },
    acquireConnectionTimeout: 10_000,
    // knex writes its warnings to the console unless told otherwise
    log: options.log && {
      warn: (m: unknown) => options.log!.warn({ knex: String(m) }, 'database warning'),
      error: (m: unknown) => options.log!.error({ knex: String(m) }, 'database error'),
      deprecate: (m: unknown) => options.log!.warn({ knex: String(m) }, 'database deprecation'),
      debug: () => undefined,
    },
  });
}
