import { createIndexService, seedCatalog } from '@hub/index';
import { addHl7Sender, createIngestService } from '@hub/ingest';
import { buildInstance } from '@hub/shared/dicom/testing';
import { daysBetween, localDate } from '@hub/shared/recognition';
import { freePort, readJson, startTestHub, type TestHub } from '@hub/shared/testing';
import { createViewerApiService } from '@hub/viewer-api';
import { mllpTestClient } from '../services/ingest/src/mllp/test-client';

const ZHANG = '110101199003074514';
const BOUNDARY = 'recognition-journey';

/** An instant as HL7 TS / DICOM DA and TM in Beijing time. */
const beijing = (d: Date) => new Date(d.getTime() + 8 * 3600_000).toISOString().replace(/[-:T]/g, '').slice(0, 14);

/** A potassium result as an LIS sends it: LOINC in OBX-3, the resident ID in PID-3. */
const potassium = (facility: string, mrn: string, controlId: string, taken: Date) => {
  const ts = beijing(taken);
  return [
    `MSH|^~\\&|LIS|${facility}|HUB|REGION|${ts}+0800||ORU^R01^ORU_R01|${controlId}|P|2.5.1|||AL|NE|CHN|UNICODE UTF-8`,
    `PID|1||${mrn}^^^${facility}^MR~${ZHANG}^^^CHN^NNCHN||张三^^^^^^L||19900307|M`,
    `OBR|1|${controlId}-O|${controlId}-F|2823-3^钾^LN|||${ts}|||||||${ts}|血清&Serum|||||||${ts}||LAB|F`,
    'OBX|1|NM|2823-3^钾^LN||4.1|mmol/L|3.5-5.3|N|||F',
  ].join('\r') + '\r';
};

const multipart = (files: Buffer[]) =>
  Buffer.concat([...files.flatMap((f) => [Buffer.from(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n`), f, Buffer.from('\r\n')]), Buffer.from(`--${BOUNDARY}--\r\n`)]);

describe('mutual recognition, from the results hospitals push to the authority\'s savings', () => {
  let t: TestHub;
  let mllpPort: number;
  const token: Record<string, string> = {};
  const today = localDate(new Date(), 'Asia/Shanghai');
  const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000);

  beforeAll(async () => {
    mllpPort = await freePort();
    t = await startTestHub((hub) => [createIngestService(hub), createIndexService(hub), createViewerApiService(hub)], {
      MLLP_HOST: '127.0.0.1',
      MLLP_PORT: String(mllpPort),
      DICOM_HOST: '127.0.0.1',
      DICOM_PORT: String(await freePort()),
      HUB_INDEX_WORKERS: '1',
    });
    const db = t.hub.db;
    await seedCatalog(db, { region: { code: 'CITY', name: '示范市' } });
    token.AUTH = await t.tokenFor('AUTH', ['stats:read', 'catalog:write'], 'authority');
    for (const h of ['H1', 'H2']) {
      token[`${h}-systems`] = await t.tokenFor(h, ['results:write']);
      token[`${h}-emr`] = await t.tokenFor(h, ['recognition:check', 'recognition:decide']);
      await addHl7Sender(db, { organizationCode: h, facility: `${h}LIS` });
    }
    // H1 no longer prints film: its studies' films count as avoided
    await db('organizations').where({ code: 'H1' }).update({ stopped_printing_film_on: '2025-01-01' });
  });
  afterAll(() => t.stop());

  const call = async (who: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${t.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token[who]}`, 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : Buffer.isBuffer(body) ? body : JSON.stringify(body),
    });
    return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? await readJson(res) : await res.text() };
  };
  /** Until every accepted object is indexed and the recognition stage has mapped it. */
  const settled = async () => {
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      const [{ n: pending }] = await t.hub.db('accepted_objects').where({ state: 'accepted' }).count('* as n');
      const [{ n: queued }] = await t.hub.db('recognition_queue').count('* as n');
      if (Number(pending) === 0 && Number(queued) === 0) return;
    }
    throw new Error('the index and the recognition stage did not catch up');
  };
  const stow = (who: string, files: Buffer[]) => call(who, 'POST', '/dicomweb/studies', multipart(files), { 'content-type': `multipart/related; type="application/dicom"; boundary=${BOUNDARY}`, accept: 'application/dicom+json' });
  const ctChest = (patientId: string, taken: Date) =>
    buildInstance({ modality: 'CT', patientId, patientName: 'Zhang^San', charset: 'ISO_IR 192', studyDate: beijing(taken).slice(0, 8), studyTime: beijing(taken).slice(8), bodyPartExamined: 'CHEST', studyDescription: '胸部CT平扫：双肺未见明显异常' });

  it('finds H1\'s potassium and chest CT for H2 at order time, records H2\'s decision, counts H2\'s repeat as missed, and adds it all up for the authority', async () => {
    // the authority qualifies H1 for clinical chemistry and CT across the region
    for (const category of ['clinical-chemistry', 'CT']) {
      const granted = await call('AUTH', 'POST', '/recognition/qualifications', { organization: 'H1', category, basis: 'eqa-passed', scope: { kind: 'region' }, validFrom: '2025-01-01' });
      expect(granted.status).toBe(201);
    }
    // H1's LIS sends a potassium over MLLP; its PACS stores a chest CT over STOW-RS
    const taken = hoursAgo(3);
    const lis = await mllpTestClient(mllpPort);
    lis.send(potassium('H1LIS', 'M0012345', 'H1-K-1', taken));
    expect((await lis.acks(1)).map((a) => a.get('MSA-1'))).toEqual(['AA']);
    await lis.close();
    expect((await stow('H1-systems', [ctChest(ZHANG, hoursAgo(2))])).status).toBe(200);
    await settled();
    // the patient, at H1, authorizes the region's hospitals to read their results
    expect((await call('H1-systems', 'POST', '/recognition/consents', { patient: 'M0012345', scope: 'region', method: 'written', practitioner: 'Dr Wang' })).status).toBe(201);

    // H2's EMR checks before ordering a potassium, by the resident ID
    const check = await call('H2-emr', 'POST', '/recognition/checks', { patient: { nationalId: ZHANG }, item: 'LAB-K', practitioner: 'Dr Li' });
    expect(check.status).toBe(201);
    expect(check.body).toMatchObject({ recognizable: 1, item: { code: 'LAB-K', validityDays: 7 }, authorization: { allowed: true, basis: 'consent' } });
    const [k] = check.body.results;
    expect(k).toMatchObject({ recognizable: true, organization: { code: 'H1' }, values: [expect.objectContaining({ code: '2823-3', value: '4.1', unit: 'mmol/L' })] });
    // taken three hours ago: today or yesterday in Beijing, and seven days from then
    const age = daysBetween(localDate(taken, 'Asia/Shanghai'), today);
    expect([k.ageDays, k.daysLeft]).toEqual([age, 7 - age]);
    // the link is a FHIR read the same EMR can follow
    expect(k.links.fhir).toMatch(/\/fhir\/DiagnosticReport\/\d+$/);
    const decision = await call('H2-emr', 'POST', '/recognition/decisions', { checkId: check.body.check, resultId: k.id, decision: 'recognized', practitioner: 'Dr Li' });
    expect(decision).toMatchObject({ status: 201, body: { decision: 'recognized', priceCny: 6 } });

    // before a chest CT, H2 asks through FHIR, finds H1's study, and orders a new one anyway, with no decision
    const op = await call('H2-emr', 'GET', `/fhir/$prior-results?patient=${encodeURIComponent(`urn:oid:2.16.156.10011.1.3|${ZHANG}`)}&item=CT-CHEST&practitioner=${encodeURIComponent('Dr Li')}`);
    expect(op.status).toBe(200);
    expect(op.body.parameter.find((p: { name: string }) => p.name === 'recognizable')).toEqual({ name: 'recognizable', valueInteger: 1 });
    // (DICOM times have whole seconds: the repeat is taken a second after H1's study reached the hub)
    await new Promise((r) => setTimeout(r, 1100));
    expect((await stow('H2-systems', [ctChest(ZHANG, new Date())])).status).toBe(200);
    await settled();
    const missed = await t.hub.db('recognition_missed as m').join('organizations as o', 'o.id', 'm.organization_id').select('o.code', 'm.price_cny');
    expect(missed).toEqual([{ code: 'H2', price_cny: 240 }]);

    // the authority's figures: by organization over the last days, and the same as CSV
    const from = localDate(hoursAgo(48), 'Asia/Shanghai');
    const stats = await call('AUTH', 'GET', `/stats/recognition?by=total&group=organization&from=${from}&to=${today}`);
    expect(stats.status).toBe(200);
    const of = (code: string) => stats.body.rows.find((r: { organization: string }) => r.organization === code);
    expect(of('H1')).toMatchObject({ uploads: 2, filmsAvoided: 3, filmCnySaved: 49.5, plasticKg: 0.12, checks: 0 });
    expect(of('H2')).toMatchObject({ uploads: 1, filmsAvoided: 0, checks: 2, lookups: 2, checksWithRecognizable: 2, checksWithoutDecision: 1, recognized: 1, savedCny: 6, savedCnyFlatRate: 280, missedRepeats: 1, missedCny: 240, recognitionRate: 0.5, noDecisionShare: 0.5 });
    expect(JSON.stringify(stats.body)).not.toContain(ZHANG);
    const csv = await call('AUTH', 'GET', `/stats/recognition?by=total&group=organization&from=${from}&to=${today}&format=csv`);
    expect(csv.body).toContain('missedRepeats');
    expect((csv.body as string).split('\r\n').find((l) => l.includes(',H2,'))).toContain(',240,');
    // a hospital never sees the statistics
    token['H2-stats'] = await t.tokenFor('H2', ['stats:read']);
    expect((await call('H2-stats', 'GET', '/stats/recognition')).status).toBe(403);
  });
});
