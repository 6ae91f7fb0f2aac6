import type { Knex } from 'knex';
import * as foundation from './0001_foundation';
import * as resultsCore from './0002_results_core';
import * as dicomSenders from './0003_dicom_senders';
import * as imagingIndex from './0004_imaging_index';
import * as lab from './0005_lab';
import * as recognitionCatalog from './0006_recognition_catalog';
import * as blobReconcile from './0007_blob_reconcile';
import * as blobSegments from './0008_blob_segments';
import * as recognitionResults from './0009_recognition_results';
import * as recognitionLookups from './0010_recognition_lookups';

export interface Migration {
  name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** Every migration of the one schema, in order. A new one is appended, never edited once landed. */
export const migrations: Migration[] = [
  { name: '0001_foundation', ...foundation },
  { name: '0002_results_core', ...resultsCore },
  { name: '0003_dicom_senders', ...dicomSenders },
  { name: '0004_imaging_index', ...imagingIndex },
  { name: '0005_lab', ...lab },
  { name: '0006_recognition_catalog', ...recognitionCatalog },
  { name: '0007_blob_reconcile', ...blobReconcile },
  { name: '0008_blob_segments', ...blobSegments },
  { name: '0009_recognition_results', ...recognitionResults },
  { name: '0010_recognition_lookups', ...recognitionLookups },
];
