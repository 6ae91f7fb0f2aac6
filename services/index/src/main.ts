import { startFromEnvironment } from '@hub/shared/runtime';
import { createIndexService } from '.';

void startFromEnvironment('index', (hub) => [createIndexService(hub)]);
