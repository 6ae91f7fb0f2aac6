import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // The reconciler asks, for each object it lists, whether a row describes it.
  await knex.raw('create index accepted_objects_blob_key_idx on accepted_objects (blob_key)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index accepted_objects_blob_key_idx');
}
