import { startFromEnvironment } from '@hub/shared/runtime';
import { createIngestService } from '.';

void startFromEnvironment('ingest', (hub) => [createIngestService(hub)]);
