import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createIndexService, seedCatalog } from '@hub/index';
import { createIngestService } from '@hub/ingest';
import { buildInstance, generateUid, instanceSpec, type WriteElement } from '@hub/shared/dicom/testing';
import { freePort, readJson, startTestHub, type TestHub } from '@hub/shared/testing';
import { createViewerApiService } from '@hub/viewer-api';
import { publicUrlProxy } from './support/fhir-kit';
import { ohifConfig, ohifDist, serveOhif } from './support/ohif';

// Screenshots to look at, outside the repository.
const SHOTS = process.env.OHIF_SCREENSHOTS ?? os.tmpdir();
const SIZE = 256;
const SLICES = 12;

/**
 * A chest CT slice as a scanner writes it (stored value = HU + 1024): air around an oval
 * body of soft tissue, two lungs that grow towards the middle slices, a heart and a spine.
 */
function chestSlice(n: number): Buffer {
  const pixels = Buffer.alloc(SIZE * SIZE * 2);
  const lung = 0.6 + 0.4 * Math.sin((Math.PI * (n + 1)) / (SLICES + 1));
  const inside = (x: number, y: number, cx: number, cy: number, rx: number, ry: number) => ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1;
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      let hu = -1000;
      if (inside(x, y, 128, 132, 112, 84)) hu = 40 + ((x * 7 + y * 13 + n) % 21) - 10;
      if (inside(x, y, 84, 124, 34 * lung, 52 * lung) || inside(x, y, 172, 124, 34 * lung, 52 * lung)) hu = -850;
      if (inside(x, y, 132, 150, 26, 22)) hu = 60;
      if (inside(x, y, 128, 196, 15, 15)) hu = 700;
      pixels.writeUInt16LE(hu + 1024, 2 * (y * SIZE + x));
    }
  }
  return pixels;
}

// Runs in the page (the project's TypeScript has no DOM types): decodes a PNG and counts its gray levels.
const PIXEL_STATS = `async (dataUrl) => {
  const img = new Image();
  img.src = dataUrl;
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = img.width;
  canvas.height = img.height;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const { data } = ctx.getImageData(0, 0, img.width, img.height);
  const levels = new Set();
  let dark = 0, bright = 0;
  for (let i = 0; i < data.length; i += 4) {
    const gray = Math.round((data[i] + data[i + 1] + data[i + 2]) / 3);
    levels.add(gray);
    if (gray < 40) dark++;
    if (gray > 100) bright++;
  }
  const total = data.length / 4;
  return { levels: levels.size, dark: dark / total, bright: bright / total };
}`;

/** The distinct gray levels of a screenshot, and the share of dark and of bright pixels, as the browser decodes it. */
async function pixelStats(page: Page, png: Buffer): Promise<{ levels: number; dark: number; bright: number }> {
  return page.evaluate(`(${PIXEL_STATS})(${JSON.stringify(`data:image/png;base64,${png.toString('base64')}`)})`);
}

describe('OHIF Viewer v3 opens a study from the hub in Chromium', () => {
  let t: TestHub;
  let proxy: Awaited<ReturnType<typeof publicUrlProxy>>;
  let ohif: Awaited<ReturnType<typeof serveOhif>>;
  let context: BrowserContext;
  let profile: string;
  let page: Page;
  let reader: string;
  const dicomweb: Array<{ url: string; status: number }> = [];
  const study = generateUid();
  const series = generateUid();

  beforeAll(async () => {
    // fetched once into test/.cache/ohif; a failure says why, the test does not skip
    const dist = await ohifDist();
    proxy = await publicUrlProxy();
    // OHIF first: the hub's check results link to its viewer route (HUB_VIEWER_URL)
    ohif = await serveOhif(dist, ohifConfig(`${proxy.url}/dicomweb`));
    t = await startTestHub((hub) => [createIngestService(hub), createIndexService(hub), createViewerApiService(hub)], {
      HUB_PUBLIC_URL: proxy.url,
      HUB_VIEWER_URL: `${ohif.url}/viewer`,
      DICOM_HOST: '127.0.0.1',
      DICOM_PORT: String(await freePort()),
      MLLP_HOST: '127.0.0.1',
      MLLP_PORT: String(await freePort()),
      HUB_INDEX_WORKERS: '1',
    });
    proxy.forwardTo(t.http.port);
    reader = await t.tokenFor('H1', ['results:read']);
    // a catalog, so the study is a recognizable item (CT-CHEST) a prior-result check finds
    await seedCatalog(t.hub.db, { region: { code: 'CITY', name: '示范市' } });
    profile = await mkdtemp(path.join(os.tmpdir(), 'ohif-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      viewport: { width: 1280, height: 800 },
      args: ['--no-sandbox', '--disable-gpu', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
    page = context.pages()[0] ?? (await context.newPage());
    // the viewer's first-visit tour, already seen
    await page.addInitScript({ content: `localStorage.setItem('shownTours', '["basicViewerTour"]')` });
    // the hub's token on every request to it, as a site's login would give it
    await page.route(`${proxy.url}/**`, (route) => route.continue({ headers: { ...route.request().headers(), authorization: `Bearer ${reader}`, 'x-practitioner': 'Dr OHIF' } }));
    page.on('response', (r) => r.url().startsWith(`${proxy.url}/dicomweb`) && r.request().method() === 'GET' && dicomweb.push({ url: r.url().slice(proxy.url.length), status: r.status() }));
  }, 240_000);

  /** Waits, and on failure leaves a screenshot of what the browser showed. */
  const shot = async <T>(waiting: Promise<T>, name: string): Promise<T> => {
    try {
      return await waiting;
    } catch (err) {
      await page.screenshot({ path: path.join(SHOTS, name) }).catch(() => undefined);
      throw err;
    }
  };

  /** The viewport shows the CT slices: lungs dark, body and spine bright, in many gray levels (a screenshot named `name` is left). */
  const viewportShowsTheChest = async (name: string) => {
    const canvas = page.locator('canvas.cornerstone-canvas').first();
    await shot(canvas.waitFor({ state: 'visible', timeout: 90_000 }), `${name}-failed.png`);

    // the image in the middle of the viewport, where no overlay text is: lungs dark, body and spine bright
    let stats = { levels: 0, dark: 0, bright: 0 };
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await page.waitForTimeout(500)) {
      const box = (await canvas.boundingBox())!;
      const clip = await page.screenshot({ clip: { x: box.x + box.width / 4, y: box.y + box.height / 4, width: box.width / 2, height: box.height / 2 } });
      stats = await pixelStats(page, clip);
      if (stats.levels > 8 && stats.dark > 0.1 && stats.bright > 0.3) break;
    }
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
    // not one colour: lungs black, soft tissue gray, spine white, in many levels
    expect(stats.levels).toBeGreaterThan(8);
    expect(stats.dark).toBeGreaterThan(0.1);
    expect(stats.bright).toBeGreaterThan(0.3);
  };

  afterAll(async () => {
    await context?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
    await ohif?.close();
    await t?.stop();
    await proxy?.close();
  });

  it('lists a CT study pushed over STOW-RS with its Chinese name, modality and description', async () => {
    const ct = Array.from({ length: SLICES }, (_, n) => {
      const geometry: WriteElement[] = [
        { tag: 0x00200032, vr: 'DS', value: ['-64', '-64', String(-5 * n)] },
        { tag: 0x00201041, vr: 'DS', value: [String(-5 * n)] },
        { tag: 0x7fe00010, vr: 'OW', value: chestSlice(n) },
      ];
      return buildInstance(
        instanceSpec({
          studyInstanceUid: study, seriesInstanceUid: series, instanceNumber: n + 1, rows: SIZE, columns: SIZE, modality: 'CT', charset: 'ISO_IR 192',
          patientId: 'OHIF-001', patientName: 'Zhang^San=张^三', studyDescription: '胸部CT平扫', seriesDescription: '肺窗 5mm', accessionNumber: 'CT-2025-0001', studyDate: '20250301', extra: geometry,
        }),
      );
    });
    // another patient, as many hospitals in China send a name: in Chinese characters only, in GB18030
    const mr = buildInstance(instanceSpec({ modality: 'MR', charset: 'GB18030', patientId: 'OHIF-002', patientName: '李^四', studyDescription: '头颅MR平扫', studyDate: '20250228' }));
    const boundary = 'ohif-journey';
    const body = Buffer.concat([...[...ct, mr].flatMap((f) => [Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), f, Buffer.from('\r\n')]), Buffer.from(`--${boundary}--\r\n`)]);
    const pacs = await t.tokenFor('H1', ['results:write']);
    const stored = await fetch(`${t.baseUrl}/dicomweb/studies`, { method: 'POST', headers: { authorization: `Bearer ${pacs}`, 'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`, accept: 'application/dicom+json' }, body });
    expect(stored.status).toBe(200);
    // indexed: QIDO-RS counts every instance
    for (const deadline = Date.now() + 20_000; ; await new Promise((r) => setTimeout(r, 100))) {
      const [found] = await readJson(await fetch(`${t.baseUrl}/dicomweb/studies?StudyInstanceUID=${study}`, { headers: { authorization: `Bearer ${reader}` } }));
      if (found?.['00201208']?.Value?.[0] === SLICES) break;
      if (Date.now() > deadline) throw new Error('the study was not indexed within 20 s');
    }

    await page.goto(`${ohif.url}/`);
    const row = page.locator('tr').filter({ hasText: '胸部CT平扫' });
    await shot(row.waitFor({ timeout: 90_000 }), 'ohif-study-list-failed.png');
    expect(await row.locator('td').allInnerTexts()).toEqual(['Zhang, San', '01-Mar-2025 09:30 AM', 'CT', '胸部CT平扫', String(SLICES), '']);
    expect(await page.locator('tr').filter({ hasText: '头颅MR平扫' }).locator('td').allInnerTexts()).toEqual(['李, 四', '28-Feb-2025 09:30 AM', 'MR', '头颅MR平扫', '1', '']);
    // the study's panel: the patient's id and its series, from QIDO-RS
    await row.click();
    const panel = page.getByText('肺窗 5mm');
    await shot(panel.waitFor({ timeout: 30_000 }), 'ohif-study-list-failed.png');
    await expect(page.getByText('OHIF-001').isVisible()).resolves.toBe(true);
    await page.screenshot({ path: path.join(SHOTS, 'ohif-study-list.png') });
    expect(dicomweb.filter((r) => r.url.startsWith('/dicomweb/studies?')).map((r) => r.status)).toContain(200);
  }, 180_000);

  it('opens it in the viewer: the viewport shows the slices fetched over WADO-RS', async () => {
    dicomweb.length = 0;
    // as a user does: the study's row, then the Basic Viewer
    if (!(await page.getByRole('button', { name: 'Basic Viewer' }).isVisible())) {
      await page.goto(`${ohif.url}/`);
      await page.locator('tr').filter({ hasText: '胸部CT平扫' }).click({ timeout: 90_000 });
    }
    await page.getByRole('button', { name: 'Basic Viewer' }).click({ timeout: 30_000 });
    await page.waitForURL(/\/viewer\?StudyInstanceUIDs=/, { timeout: 30_000 });
    expect(page.url()).toContain(study);
    await viewportShowsTheChest('ohif-viewer');

    const metadata = dicomweb.filter((r) => r.url.includes('/metadata'));
    const frames = dicomweb.filter((r) => r.url.includes('/frames/'));
    expect(metadata.length).toBeGreaterThan(0);
    expect(frames.length).toBeGreaterThan(0);
    expect(dicomweb.filter((r) => r.status >= 400)).toEqual([]);
    // the viewer's reads were audited, with the practitioner it named
    expect(await t.hub.db('audit_events').where({ action: 'dicomweb-metadata', resource_id: study, practitioner: 'Dr OHIF', outcome: 'ok' }).first()).toBeDefined();
  }, 180_000);

  it('opens the study from a prior-result check: the check\'s viewer link is the configured OHIF with the study, and shows its slices', async () => {
    // the recognition stage has put the study under its catalog item
    for (const deadline = Date.now() + 20_000; ; await new Promise((r) => setTimeout(r, 100))) {
      if (await t.hub.db('recognition_results as r').join('studies as s', 's.id', 'r.result_id').where({ 'r.kind': 'imaging', 's.study_uid': study }).first()) break;
      if (Date.now() > deadline) throw new Error('the study was not mapped to the catalog within 20 s');
    }
    // the clinician's EMR checks before ordering a chest CT, as the hospital that holds the study
    const emr = await t.tokenFor('H1', ['recognition:check']);
    const res = await fetch(`${t.baseUrl}/recognition/checks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${emr}`, 'content-type': 'application/json' },
      body: JSON.stringify({ patient: { mrn: 'OHIF-001' }, item: 'CT-CHEST', practitioner: 'Dr OHIF' }),
    });
    expect(res.status).toBe(201);
    const [prior] = (await readJson(res)).results;
    expect(prior.study.uid).toBe(study);
    expect(prior.links.viewer).toBe(`${ohif.url}/viewer?StudyInstanceUIDs=${study}`);

    // the link, followed: OHIF opens the study in its viewer and draws it from the hub
    dicomweb.length = 0;
    await page.goto('about:blank');
    await page.goto(prior.links.viewer);
    await viewportShowsTheChest('ohif-viewer-from-check');
    expect(page.url()).toContain(study);
    expect(dicomweb.filter((r) => r.status >= 400)).toEqual([]);
  }, 180_000);
});
