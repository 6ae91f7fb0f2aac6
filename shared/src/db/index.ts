export { createDb, type DbOptions, type Knex } from './knex';
export { migrateLatest } from './migrate';
export { startEmbeddedPostgres, type EmbeddedPostgres, type EmbeddedOptions } from './embedded';
