import type { Knex } from '@hub/shared/db';

interface PgConnection {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: Array<Record<string, unknown>> }>;
}

/**
 * A statement run as a named prepared statement on a connection of the knex pool: PostgreSQL
 * plans it once per connection instead of once per call. The check's read is one statement of
 * a recursive CTE and four aggregates whose planning (0.7 ms) costs more than its execution
 * for a batch of eight checks (0.45 ms). Parameters are $1…$n.
 *
 * PostgreSQL keeps the one generic plan only if it looks no dearer than the plans it makes for
 * the values at hand, and a batch statement's cost grows with the length of the arrays it
 * unnests: seen in the values (a batch of 3), that length makes every generic plan (which
 * assumes 10) look dearer, and the statement would be planned anew at every call. So a batch
 * statement reads its first array through a sub-select — `unnest((select $1::bigint[]), $2 …)`
 * — which no plan sees into: both assume 10 rows (a ROWS FROM is as long as its longest
 * array), and after five calls the generic plan is kept (prepared.test.ts checks it).
 */
export async function preparedQuery(db: Knex, name: string, text: string, values: unknown[]): Promise<Array<Record<string, unknown>>> {
  const client = db.client as { acquireConnection(): Promise<PgConnection>; releaseConnection(c: PgConnection): Promise<void> };
  const connection = await client.acquireConnection();
  try {
    return (await connection.query({ name, text, values })).rows;
  } finally {
    await client.releaseConnection(connection);
  }
}
