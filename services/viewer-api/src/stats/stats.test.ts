import { createRecognitionStage } from '@hub/index';
import { loadConfig } from '@hub/shared/config';
import { readJson, startTestHub, testLogger, type TestHub } from '@hub/shared/testing';
import { createStatsRouter, savingsOf, wholeMonths } from '.';
import { createTestRegion, type TestRegion } from '../../../index/src/recognition/test-region';
import { createOrderTimeRecognition, declineReasons } from '../recognition';

let clock = new Date('2026-03-01T09:00:00+08:00');

// A small random region, the same every run.
function random(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// the seed catalog's windows, prices and films of the items used (services/index/src/recognition/seed/catalog.ts)
const ITEMS = {
  'LAB-K': { loinc: '2823-3', days: 7, price: 6, films: 0 },
  'LAB-GLU': { loinc: '2345-7', days: 30, price: 5, films: 0 },
  'LAB-HBA1C': { loinc: '4548-4', days: 60, price: 60, films: 0 },
  'CT-CHEST': { modality: 'CT', bodyPart: 'CHEST', days: 90, price: 240, films: 3 },
  'DR-CHEST': { modality: 'DX', bodyPart: 'CHEST', days: 90, price: 80, films: 1 },
} as const;
type ItemCode = keyof typeof ITEMS;
const ORGS = ['H1', 'H2', 'IC'] as const;
const STOPPED: Record<string, string | undefined> = { H1: '2026-01-01', IC: '2026-02-15' };

const addDays = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
const dayOf = (d: Date) => new Date(d.getTime() + 8 * 3600_000).toISOString().slice(0, 10);

interface Result { person: number; org: string; item: ItemCode; at: Date; day: string }
interface Expected { uploads: number; films: number; checks: number; lookups: number; recognizable: number; decided: number; recognized: number; declined: number; reasons: Record<string, number>; missed: number; missedCny: number; savedCny: number }
const empty = (): Expected => ({ uploads: 0, films: 0, checks: 0, lookups: 0, recognizable: 0, decided: 0, recognized: 0, declined: 0, reasons: {}, missed: 0, missedCny: 0, savedCny: 0 });

describe('the authority\'s statistics', () => {
  let t: TestHub;
  let r: TestRegion;
  let authority: string;
  // what each day, organization and item must add up to, kept here as the region is made
  const expected = new Map<string, Expected>();
  const at = (day: string, org: string, item: string) => {
    const key = `${day}|${org}|${item}`;
    if (!expected.has(key)) expected.set(key, empty());
    return expected.get(key)!;
  };
  /** The expected lines of a range, by month (or 'total'), organization and item. */
  const expectedOver = (from: string, to: string, by: 'month' | 'total') => {
    const lines = new Map<string, Expected>();
    for (const [key, e] of expected) {
      const [day, org, item] = key.split('|') as [string, string, string];
      if (day < from || day > to) continue;
      const line = `${by === 'month' ? day.slice(0, 7) : 'total'}|${org}|${item}`;
      const sum = lines.get(line) ?? empty();
      for (const k of Object.keys(e) as Array<keyof Expected>) {
        if (k === 'reasons') for (const [r, n] of Object.entries(e.reasons)) sum.reasons[r] = (sum.reasons[r] ?? 0) + n;
        else sum[k] += e[k];
      }
      lines.set(line, sum);
    }
    return lines;
  };

  beforeAll(async () => {
    t = await startTestHub((hub) => {
      const recognition = createOrderTimeRecognition({ db: hub.db, publicUrl: hub.config.publicUrl, idHashSecret: hub.idHashSecret, factsStaleMs: 0, now: () => clock });
      return [{ name: 'recognition', mount: (app) => app.use(recognition.router, createStatsRouter({ db: hub.db, facts: recognition.facts, savings: hub.config.savings, minCell: hub.config.statistics.minCell, now: () => new Date('2026-04-30T12:00:00+08:00') })) }];
    });
    r = await createTestRegion(t.hub.db, [
      { code: 'H1', grade: '3A', stoppedPrintingFilmOn: STOPPED.H1 },
      { code: 'H2', grade: '2A' },
      { code: 'IC', kind: 'imaging_centre', stoppedPrintingFilmOn: STOPPED.IC },
      { code: 'AUTH', kind: 'authority' },
    ]);
    authority = await t.tokenFor('AUTH', ['stats:read'], 'authority');
    for (const org of ORGS) for (const category of ['clinical-chemistry', 'CT', 'DR']) await r.qualify(org, { category, from: '2025-01-01' });
    const rand = random(42);
    const pick = <T,>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
    const stage = createRecognitionStage({ db: t.hub.db, log: testLogger(), factsStaleMs: 0 });
    const results: Result[] = [];
    const records = new Map<string, number>();
    const persons: number[] = [];
    for (let i = 0; i < 30; i++) {
      const person = await r.person();
      persons.push(person);
      await r.consent(person, { recordedBy: 'H1', from: '2025-12-01T00:00:00+08:00' });
      for (const org of ORGS) records.set(`${person}|${org}`, await r.patient(org, `M${person}-${org}`, person));
    }
    const push = async (person: number, org: string, item: ItemCode, when: Date) => {
      const spec = ITEMS[item];
      const patient = records.get(`${person}|${org}`)!;
      if ('loinc' in spec) await r.lab(org, patient, { loinc: spec.loinc, at: when.toISOString() });
      else await r.study(org, patient, { modality: spec.modality, bodyPart: spec.bodyPart, date: dayOf(when), time: new Date(when.getTime() + 8 * 3600_000).toISOString().slice(11, 19).replace(/:/g, '') });
      results.push({ person, org, item, at: when, day: dayOf(when) });
    };
    const someTime = (from: string, days: number) => new Date(Date.parse(`${from}T01:00:00Z`) + Math.floor(rand() * days) * 86_400_000 + Math.floor(rand() * 10) * 3600_000);

    // January and February: results arrive
    for (let i = 0; i < 70; i++) await push(pick(persons), pick(ORGS), pick(Object.keys(ITEMS) as ItemCode[]), someTime('2026-01-01', 59));
    await stage.drain();

    // early March: clinicians check, and decide on some
    const decisions: Array<{ person: number; org: string; item: ItemCode; at: Date }> = [];
    for (let i = 0; i < 40; i++) {
      const person = pick(persons);
      const org = pick(ORGS.filter((o) => o !== 'IC'));
      const item = pick(Object.keys(ITEMS) as ItemCode[]);
      clock = someTime('2026-03-01', 7);
      const res = await fetch(`${t.baseUrl}/recognition/checks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await t.tokenFor(org, ['recognition:check', 'recognition:decide'])}`, 'content-type': 'application/json' },
        body: JSON.stringify({ patient: { mrn: `M${person}-${org}` }, item, practitioner: 'Dr Test' }),
      });
      const answer = await readJson(res);
      expect(res.status).toBe(201);
      const e = at(dayOf(clock), org, item);
      e.checks += 1;
      e.lookups += answer.results.filter((x: { organization: { own: boolean } }) => !x.organization.own).length;
      const recognizable = answer.results.filter((x: { recognizable: boolean }) => x.recognizable);
      if (recognizable.length === 0) continue;
      e.recognizable += 1;
      const choice = rand();
      if (choice < 0.3) continue;
      const decide = async (body: Record<string, unknown>) =>
        fetch(`${t.baseUrl}/recognition/decisions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${await t.tokenFor(org, ['recognition:check', 'recognition:decide'])}`, 'content-type': 'application/json' },
          body: JSON.stringify({ checkId: answer.check, resultId: recognizable[0].id, practitioner: 'Dr Test', ...body }),
        });
      e.decided += 1;
      decisions.push({ person, org, item, at: clock });
      if (choice < 0.65) {
        expect((await decide({ decision: 'recognized' })).status).toBe(201);
        e.recognized += 1;
        e.savedCny += ITEMS[item].price;
      } else {
        const reasons = [pick(declineReasons.filter((x) => x !== 'other')), 'other'];
        expect((await decide({ decision: 'declined', reasons, text: 'test' })).status).toBe(201);
        e.declined += 1;
        for (const reason of reasons) e.reasons[reason] = (e.reasons[reason] ?? 0) + 1;
      }
    }

    // March and April: more results, some of them repeats
    for (let i = 0; i < 70; i++) await push(pick(persons), pick(ORGS), pick(Object.keys(ITEMS) as ItemCode[]), someTime('2026-03-05', 50));
    await stage.drain();

    // what the statistics must say, worked out here from what was done: uploads and films per result…
    for (const x of results) {
      const e = at(x.day, x.org, x.item);
      e.uploads += 1;
      if (STOPPED[x.org] && STOPPED[x.org]! <= x.day) e.films += ITEMS[x.item].films;
    }
    // …and a missed repeat where another organization's prior was inside its window and no decision covered it
    const sorted = [...results].sort((a, b) => a.at.getTime() - b.at.getTime());
    for (const x of sorted) {
      const prior = sorted.find((p) => p !== x && p.person === x.person && p.item === x.item && p.org !== x.org && p.at < x.at && addDays(p.day, ITEMS[x.item].days) >= x.day);
      const covered = decisions.some((d) => d.person === x.person && d.item === x.item && d.org === x.org && d.at.getTime() >= x.at.getTime() - 30 * 86_400_000 && d.at.getTime() <= x.at.getTime() + 86_400_000);
      if (prior && !covered) {
        const e = at(x.day, x.org, x.item);
        e.missed += 1;
        e.missedCny += ITEMS[x.item].price;
      }
    }

    // one more check the stage has not folded yet: statistics add what is still a delta
    clock = new Date('2026-04-10T10:00:00+08:00');
    const last = await fetch(`${t.baseUrl}/recognition/checks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await t.tokenFor('H2', ['recognition:check', 'recognition:decide'])}`, 'content-type': 'application/json' },
      body: JSON.stringify({ patient: { mrn: `M${persons[0]}-H2` }, item: 'LAB-K', practitioner: 'Dr Test' }),
    });
    const answer = await readJson(last);
    const e = at('2026-04-10', 'H2', 'LAB-K');
    e.checks += 1;
    e.lookups += answer.results.filter((x: { organization: { own: boolean } }) => !x.organization.own).length;
    e.recognizable += answer.recognizable > 0 ? 1 : 0;
    expect(await t.hub.db('recognition_daily_deltas').count('* as n').first()).toEqual({ n: 1 });
  });
  afterAll(() => t.stop());

  const stats = (query: string, token = authority, headers: Record<string, string> = {}) => fetch(`${t.baseUrl}/stats/recognition?${query}`, { headers: { authorization: `Bearer ${token}`, ...headers } });

  const linesOf = async (query: string) => {
    const body = await readJson(await stats(query));
    return new Map<string, Expected>(
      body.rows.map((x: Record<string, any>) => [ // eslint-disable-line @typescript-eslint/no-explicit-any
        `${x.period}|${x.organization}|${x.item}`,
        { uploads: x.uploads, films: x.filmsAvoided, checks: x.checks, lookups: x.lookups, recognizable: x.checksWithRecognizable, decided: x.checksWithRecognizable - x.checksWithoutDecision, recognized: x.recognized, declined: x.declined, reasons: x.declinedByReason, missed: x.missedRepeats, missedCny: x.missedCny, savedCny: x.savedCny },
      ]),
    );
  };

  it('counts uploads, films, look-ups, checks, decisions with their reasons and missed repeats by month, organization and item', async () => {
    const got = await linesOf('from=2026-01-01&to=2026-04-30&by=month&group=organization,item');
    expect(Object.fromEntries(got)).toEqual(Object.fromEntries(expectedOver('2026-01-01', '2026-04-30', 'month')));
    // months cut at both ends: the whole months from the monthly roll-ups, the ends from the days
    const cut = await linesOf('from=2026-01-15&to=2026-04-10&by=month&group=organization,item');
    expect(Object.fromEntries(cut)).toEqual(Object.fromEntries(expectedOver('2026-01-15', '2026-04-10', 'month')));
    const whole = await linesOf('from=2026-01-15&to=2026-04-10&by=total&group=organization,item');
    expect(Object.fromEntries(whole)).toEqual(Object.fromEntries([...expectedOver('2026-01-15', '2026-04-10', 'total')].map(([k, v]) => [k.replace(/^total/, 'null'), v])));
    const totals = [...expected.values()].reduce((a, e) => ({ recognized: a.recognized + e.recognized, missed: a.missed + e.missed, films: a.films + e.films }), { recognized: 0, missed: 0, films: 0 });
    expect(totals.recognized).toBeGreaterThan(0);
    expect(totals.missed).toBeGreaterThan(0);
    expect(totals.films).toBeGreaterThan(0);
  });

  it('derives the rates and the savings from the configured factors, and projects five years from the trailing twelve months', async () => {
    const body = await readJson(await stats('from=2026-01-01&to=2026-04-30&by=total'));
    const [row] = body.rows;
    const sum = (f: (e: Expected) => number) => [...expected.values()].reduce((a, e) => a + f(e), 0);
    const recognized = sum((e) => e.recognized);
    const films = sum((e) => e.films);
    expect(row).toMatchObject({
      recognized,
      recognitionRate: Math.round((recognized / (recognized + sum((e) => e.declined) + sum((e) => e.missed))) * 10_000) / 10_000,
      noDecisionShare: Math.round(((sum((e) => e.recognizable) - sum((e) => e.decided)) / sum((e) => e.recognizable)) * 10_000) / 10_000,
      savedCnyFlatRate: recognized * 280,
      filmsAvoided: films,
      filmCnySaved: Math.round(films * 16.5 * 100) / 100,
      plasticKg: (films * 40) / 1000,
    });
    expect(body.projection).toMatchObject({ basis: { from: '2025-05-01', to: '2026-04-30' }, perYear: { recognized }, fiveYears: { recognized: recognized * 5, savedCnyFlatRate: recognized * 280 * 5 } });
    expect(body.factors).toEqual({ perRepeatCny: 280, filmCny: 16.5, filmPlasticGrams: 40 });
  });

  it('gives the same figures as CSV, with a byte order mark for Excel', async () => {
    const res = await stats('from=2026-01-01&to=2026-04-30&by=month&group=organization', authority, { accept: 'text/csv' });
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    // (text() would drop the mark, as a decoder does)
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(await res.arrayBuffer());
    expect(text.charCodeAt(0)).toBe(0xfeff);
    const [header, ...lines] = text.slice(1).trim().split('\r\n');
    const columns = header!.split(',');
    expect(columns.slice(0, 5)).toEqual(['period', 'organization', 'organizationName', 'kind', 'grade']);
    expect(columns).toContain('declined:before-surgery-or-transfusion');
    const h1March = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [columns[i], v]))).find((l) => l.period === '2026-03' && l.organization === 'H1')!;
    const uploads = [...expected].filter(([k]) => k.startsWith('2026-03-') && k.includes('|H1|')).reduce((a, [, e]) => a + e.uploads, 0);
    expect(Number(h1March.uploads)).toBe(uploads);
    expect(h1March.grade).toBe('3A');
  });

  it('withholds a day\'s counts of 1 to 4 per organization and item (HUB_STATS_MIN_CELL=5), and only there', async () => {
    const body = await readJson(await stats('from=2026-01-01&to=2026-04-30&by=day&group=organization,item'));
    expect(body.minCell).toBe(5);
    let withheld = 0;
    for (const x of body.rows) {
      const e = expected.get(`${x.period}|${x.organization}|${x.item}`) ?? empty();
      for (const [shown, count] of [[x.uploads, e.uploads], [x.checks, e.checks], [x.recognized, e.recognized], [x.missedRepeats, e.missed]] as const) {
        if (count > 0 && count < 5) {
          expect(shown).toBeNull();
          withheld += 1;
        } else expect(shown).toBe(count);
      }
      if (e.missed > 0 && e.missed < 5) expect([x.missedCny, x.recognitionRate, x.suppressed]).toEqual([null, null, expect.arrayContaining(['missedRepeats', 'missedCny'])]);
    }
    expect(withheld).toBeGreaterThan(0);
    // the same days without the item, or by month, are exact
    const byOrganization = await readJson(await stats('from=2026-01-01&to=2026-04-30&by=day&group=organization'));
    expect(byOrganization.rows.every((x: { suppressed?: string[]; uploads: number | null }) => x.suppressed === undefined && x.uploads !== null)).toBe(true);
  });

  it('is the authority\'s only, and refuses bad ranges', async () => {
    const hospital = await t.tokenFor('H1', ['stats:read']);
    expect((await stats('by=month', hospital)).status).toBe(403);
    expect((await stats('by=week')).status).toBe(400);
    expect((await stats('from=2026-05-01&to=2026-04-01')).status).toBe(400);
    expect((await stats('group=patient')).status).toBe(400);
  });

  it('reads whole months from the monthly roll-ups and only the days at the ends', () => {
    expect(wholeMonths('2026-01-01', '2026-04-30')).toEqual({ first: '2026-01-01', until: '2026-05-01' });
    expect(wholeMonths('2026-01-15', '2026-04-10')).toEqual({ first: '2026-02-01', until: '2026-04-01' });
    expect(wholeMonths('2026-02-01', '2026-02-28')).toEqual({ first: '2026-02-01', until: '2026-03-01' });
    expect(wholeMonths('2026-02-02', '2026-03-30')).toBeNull();
    expect(wholeMonths('2025-12-31', '2026-01-31')).toEqual({ first: '2026-01-01', until: '2026-02-01' });
  });

  it('reproduces the reference deployment\'s published arithmetic from configuration', () => {
    const factors = loadConfig({}).savings;
    const published = savingsOf({ repeatsAvoided: 500_000, filmsAvoided: 5_000_000 }, factors);
    expect(published.repeatsCnyFlatRate).toBe(140_000_000);
    expect(published.filmCny).toBe(82_500_000);
    expect(published.plasticKg / 1000).toBe(200); // tonnes
    expect(savingsOf({ repeatsAvoided: 500_000, filmsAvoided: 5_000_000 }, loadConfig({ HUB_FILM_PRICE_CNY: '20', HUB_SAVING_PER_REPEAT_CNY: '300' }).savings)).toMatchObject({ repeatsCnyFlatRate: 150_000_000, filmCny: 100_000_000 });
  });
});
