import type { Knex } from 'knex';
import * as foundation from './0001_foundation';
import * as resultsCore from './0002_results_core';

export interface Migration {
  name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** Every migration of the one schema, in order. A new one is appended, never edited once landed. */
export const migrations: Migration[] = [
  { name: '0001_foundation', ...foundation },
  { name: '0002_results_core', ...resultsCore },
];
