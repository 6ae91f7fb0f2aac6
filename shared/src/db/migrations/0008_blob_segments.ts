import type { Knex } from 'knex';

/**
 * Small originals (HL7 v2 messages, a few KB) accepted together are stored as one object, a
 * segment, instead of one object each: one durable write per batch rather than per message.
 * `blob_offset` is where the original starts inside the object `blob_key` names, and `size`
 * its length; null means the object is the original itself (every DICOM instance, every
 * earlier row). The reconciler keeps a segment while any row names its key.
 *
 * A nullable column without a default: PostgreSQL adds it without rewriting or scanning the
 * table, however many rows it holds.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table accepted_objects add column blob_offset bigint');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table accepted_objects drop column blob_offset');
}
