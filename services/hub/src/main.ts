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
    const senders = demo.filter((c) => c.aeTitle);
    if (senders.length > 0) {
      lines.push(
        '',
        `  Push DICOM as a demo PACS (calling AE titles: ${senders.map((c) => `${c.organization} ${c.aeTitle}`).join(', ')}):`,
        `    storescu -aet ${senders[0]!.aeTitle} -aec ${hub.config.dicom.aeTitle} localhost ${hub.config.dicom.port} +sd FOLDER_OF_DICOM_FILES`,
      );
    }
    const lis = demo.filter((c) => c.hl7Facility);
    if (lis.length > 0) {
      lines.push(
        '',
        `  Send HL7 v2 as a demo LIS over MLLP to localhost:${hub.config.mllp.port} with MSH-4 ${lis.map((c) => `${c.hl7Facility} (${c.organization})`).join(' or ')}`,
      );
    }
    return lines;
  },
);
