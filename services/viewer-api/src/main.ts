import { startFromEnvironment } from '@hub/shared/runtime';
import { createViewerApiService } from '.';

void startFromEnvironment('viewer-api', (hub) => [createViewerApiService(hub)]);
