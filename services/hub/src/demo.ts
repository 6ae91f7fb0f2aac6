import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createClient, type Scope } from '@hub/shared/auth';
import type { Knex } from '@hub/shared/db';
import { isHubError } from '@hub/shared/errors';
import { addHl7Sender, registerDicomSender } from '@hub/ingest';
import { createOrganization, type NewOrganization } from '@hub/shared/org';
import { ensureDemoRecognition } from './demo-recognition';

export interface DemoCredential {
  organization: string;
  name: string;
  clientId: string;
  clientSecret: string;
  scopes: Scope[];
  /** The calling AE title its PACS pushes with (hospitals and imaging centres). */
  aeTitle?: string;
  /** The MSH-4 sending facility its LIS sends HL7 v2 with over MLLP (hospitals). */
  hl7Facility?: string;
}

/** DEMO-H1 → DEMO-H1-LIS: one registered MSH-4 sending facility per demo hospital. */
async function ensureDemoLabSenders(db: Knex, credentials: DemoCredential[]): Promise<DemoCredential[]> {
  const hospitals = new Set(demoRegion.filter((o) => o.kind === 'hospital').map((o) => o.code));
  const out: DemoCredential[] = [];
  for (const c of credentials) {
    if (!hospitals.has(c.organization)) {
      out.push(c);
      continue;
    }
    const hl7Facility = `${c.organization}-LIS`;
    await addHl7Sender(db, { organizationCode: c.organization, facility: hl7Facility }).catch((err: unknown) => {
      if (!isHubError(err, 'Conflict')) throw err;
    });
    out.push({ ...c, hl7Facility });
  }
  return out;
}

/** DEMO-H1 → DEMO_H1_PACS: one registered calling AE title per organization that sends images. */
const demoAeTitle = (code: string) => `${code.replace(/-/g, '_')}_PACS`;

/** Registers the demo AE titles, also in a demo region created before they existed. */
async function ensureDemoSenders(db: Knex, credentials: DemoCredential[]): Promise<DemoCredential[]> {
  const withAe: DemoCredential[] = [];
  for (const c of credentials) {
    if (!c.scopes.includes('results:write')) {
      withAe.push(c);
      continue;
    }
    const aeTitle = demoAeTitle(c.organization);
    await registerDicomSender(db, { organizationCode: c.organization, aeTitle }).catch((err: unknown) => {
      if (!isHubError(err, 'Conflict')) throw err;
    });
    withAe.push({ ...c, aeTitle });
  }
  return withAe;
}

const hospitalScopes: Scope[] = ['results:write', 'results:read', 'recognition:check', 'recognition:decide'];

/** A small region to try the hub with: two hospitals, an imaging centre and the authority. */
const demoRegion: Array<NewOrganization & { scopes: Scope[] }> = [
  { code: 'DEMO-H1', name: '示范市第一人民医院', nameEn: 'Demo City First People\'s Hospital', kind: 'hospital', grade: '3A', scopes: hospitalScopes },
  { code: 'DEMO-H2', name: '示范市中医医院', nameEn: 'Demo City Hospital of Traditional Chinese Medicine', kind: 'hospital', grade: '3A', stoppedPrintingFilmOn: '2026-01-01', scopes: hospitalScopes },
  { code: 'DEMO-IC', name: '示范市区域影像中心', nameEn: 'Demo City Regional Imaging Centre', kind: 'imaging_centre', scopes: ['results:write', 'results:read'] },
  { code: 'DEMO-AUTH', name: '示范市卫生健康委员会', nameEn: 'Demo City Health Commission', kind: 'authority', scopes: ['stats:read', 'catalog:write'] },
];

/**
 * Creates the demo region on the first start of an empty hub and keeps its credentials in
 * the data folder (owner-only), so every later start can print them again. Returns null
 * when the hub already has organizations of its own.
 */
export async function ensureDemoRegion(db: Knex, dataDir: string): Promise<DemoCredential[] | null> {
  const file = path.join(dataDir, 'demo-credentials.json');
  try {
    const existing = JSON.parse(await readFile(file, 'utf8')) as DemoCredential[];
    await ensureDemoRecognition(db);
    return await ensureDemoLabSenders(db, await ensureDemoSenders(db, existing));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const [{ count }] = await db('organizations').count<{ count: number }[]>({ count: '*' });
  if (Number(count) > 0) return null;

  const credentials: DemoCredential[] = [];
  await db.transaction(async (trx) => {
    for (const { scopes, ...org } of demoRegion) {
      await createOrganization(trx, org);
      const name = org.kind === 'authority' ? 'dashboard' : 'systems';
      const clientId = `${org.code.toLowerCase()}-${name}`;
      const { clientSecret } = await createClient(trx, { organizationCode: org.code, name, scopes, clientId });
      credentials.push({ organization: org.code, name: org.name, clientId, clientSecret, scopes });
    }
  });
  await ensureDemoRecognition(db);
  await writeFile(file, JSON.stringify(credentials, null, 2), { mode: 0o600 });
  return ensureDemoLabSenders(db, await ensureDemoSenders(db, credentials));
}
