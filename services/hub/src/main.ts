import { createIndexService } from '@hub/index';
import { createIngestService } from '@hub/ingest';
import { startFromEnvironment } from '@hub/shared/runtime';
import { createViewerApiService } from '@hub/viewer-api';
import { ensureDemoRegion } from './demo';

/** All three services in one process: the embedded default, and small deployments. */
void startFromEnvironment(
  'hub',
  (hub) => [createIngestService(hub), createIndexService(hub), createViewerApiService(hub)],
  async ({ hub, http }) => {
    const lines = [`  data folder        ${hub.config.dataDir}`];
    if (!hub.config.demo) return lines;
    const demo = await ensureDemoRegion(hub.db, hub.config.dataDir);
    if (!demo) return lines;
    lines.push('', '  DEMO credentials (a demo region for trying the hub; not for production):');
    for (const c of demo) lines.push(`    ${c.organization.padEnd(10)} client_id=${c.clientId}  client_secret=${c.clientSecret}  scopes="${c.scopes.join(' ')}"`);
    const first = demo[0]!;
    lines.push(
      '',
      '  Get a token:',
      `    curl -s -u ${first.clientId}:${first.clientSecret} -d grant_type=client_credentials http://localhost:${http.port}/oauth/token`,
    );
    return lines;
  },
);
