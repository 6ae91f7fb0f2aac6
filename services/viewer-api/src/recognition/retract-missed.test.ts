import { createRecognitionStage, type RecognitionStage } from '@hub/index';
import { readJson, startTestHub, testLogger, type TestHub } from '@hub/shared/testing';
import { createOrderTimeRecognition } from '.';
import { createTestRegion, type TestRegion } from '../../../index/src/recognition/test-region';
import { createStatsRouter } from '../stats';

const K = '2823-3';
let clock = new Date('2026-03-02T09:00:00+08:00');

describe('a decision recorded after the repeat it covers retracts the missed repeat', () => {
  let t: TestHub;
  let r: TestRegion;
  let stage: RecognitionStage;
  const people: Record<string, { id: number; records: Record<string, number> }> = {};

  beforeAll(async () => {
    t = await startTestHub((hub) => {
      const recognition = createOrderTimeRecognition({ db: hub.db, publicUrl: hub.config.publicUrl, idHashSecret: hub.idHashSecret, factsStaleMs: 0, now: () => clock });
      // every count shown: these lines are a handful of events by design
      return [{ name: 'recognition', mount: (app) => app.use(recognition.router, createStatsRouter({ db: hub.db, facts: recognition.facts, savings: hub.config.savings, minCell: 0, now: () => new Date('2026-03-31T12:00:00+08:00') })) }];
    });
    r = await createTestRegion(t.hub.db, [{ code: 'H1' }, { code: 'H2' }, { code: 'H3' }, { code: 'AUTH', kind: 'authority' }]);
    await r.qualify('H1', { category: 'clinical-chemistry', from: '2026-01-01' });
    stage = createRecognitionStage({ db: t.hub.db, log: testLogger(), factsStaleMs: 0 });
    for (const name of ['P', 'Q']) {
      const id = await r.person();
      const records: Record<string, number> = {};
      for (const org of ['H1', 'H2', 'H3']) records[org] = await r.patient(org, `${org}-${name}`, id);
      await r.consent(id, { recordedBy: 'H1', from: '2026-01-01T00:00:00+08:00' });
      people[name] = { id, records };
    }
  });
  afterAll(() => t.stop());

  const as = async (org: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${t.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${await t.tokenFor(org, org === 'AUTH' ? ['stats:read'] : ['recognition:check', 'recognition:decide'], org === 'AUTH' ? 'authority' : 'hospital')}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await readJson(res) };
  };
  const check = async (org: string, person: string, at: string) => {
    clock = new Date(at);
    const answer = await as(org, 'POST', '/recognition/checks', { patient: { mrn: `${org}-${person}` }, item: 'LAB-K', practitioner: 'Dr Zhou' });
    expect(answer).toMatchObject({ status: 201, body: { recognizable: 1 } });
    return { check: answer.body.check as string, result: answer.body.results[0].id as string };
  };
  const repeat = (org: string, person: string, at: string) => r.lab(org, people[person]!.records[org]!, { loinc: K, at });
  const missed = () =>
    t.hub.db('recognition_missed as m').join('organizations as o', 'o.id', 'm.organization_id').join('recognition_results as x', 'x.id', 'm.result_row_id')
      .orderBy('x.reference_at').select('o.code as org', 'x.reference_at as taken', 'm.retracted_at as retractedAt', 'm.retracted_by_decision_id as by');
  // the repeaters' lines (H1 only uploads the priors)
  const lines = async (query: string) =>
    (await as('AUTH', 'GET', `/stats/recognition?from=2026-03-01&to=2026-03-31&${query}`)).body.rows.filter((x: { organization: string }) => x.organization !== 'H1').map((x: Record<string, unknown>) => ({ period: x.period, org: x.organization, missed: x.missedRepeats, missedCny: x.missedCny, recognized: x.recognized, declined: x.declined, rate: x.recognitionRate }));

  it('retracts the repeats its check covers, keeps the others, moves the statistics, and gives the same outcome in either order', async () => {
    // H1's potassium results, the priors
    await repeat('H1', 'P', '2026-03-01T08:00:00+08:00');
    await repeat('H1', 'Q', '2026-03-01T08:00:00+08:00');
    await stage.drain();
    // H2 checks both on 2 March at 09:00 and decides nothing yet
    const onP = await check('H2', 'P', '2026-03-02T09:00:00+08:00');
    const onQ = await check('H2', 'Q', '2026-03-02T09:00:00+08:00');
    // the repeats, made with no decision on record
    await repeat('H2', 'P', '2026-03-02T10:00:00+08:00'); // covered by the check on P
    await repeat('H3', 'P', '2026-03-03T08:00:00+08:00'); // H3 never checked
    await repeat('H2', 'Q', '2026-03-01T08:59:00+08:00'); // a day and a minute before the check: not covered
    await repeat('H2', 'Q', '2026-03-01T09:00:00+08:00'); // a day before the check: covered
    await stage.drain();
    expect((await missed()).map((m) => [m.org, m.retractedAt])).toEqual([['H2', null], ['H2', null], ['H2', null], ['H3', null]]);
    expect(await lines('by=month&group=organization')).toEqual([
      { period: '2026-03', org: 'H2', missed: 3, missedCny: 18, recognized: 0, declined: 0, rate: 0 },
      { period: '2026-03', org: 'H3', missed: 1, missedCny: 6, recognized: 0, declined: 0, rate: 0 },
    ]);

    // three days later the decisions are recorded: declined on P, recognized on Q
    clock = new Date('2026-03-05T10:00:00+08:00');
    const declined = await as('H2', 'POST', '/recognition/decisions', { checkId: onP.check, resultId: onP.result, decision: 'declined', reasons: ['condition-changed'], practitioner: 'Dr Zhou' });
    const recognized = await as('H2', 'POST', '/recognition/decisions', { checkId: onQ.check, resultId: onQ.result, decision: 'recognized', practitioner: 'Dr Zhou' });
    expect([declined.status, recognized.status]).toEqual([201, 201]);
    // the same decision again is the same decision: nothing retracted twice
    expect((await as('H2', 'POST', '/recognition/decisions', { checkId: onP.check, resultId: onP.result, decision: 'declined', reasons: ['condition-changed'], practitioner: 'Dr Zhou' })).status).toBe(200);

    const retractedAt = new Date('2026-03-05T10:00:00+08:00');
    expect((await missed()).map((m) => ({ org: m.org, taken: m.taken, retractedAt: m.retractedAt, by: m.by }))).toEqual([
      { org: 'H2', taken: new Date('2026-03-01T08:59:00+08:00'), retractedAt: null, by: null },
      { org: 'H2', taken: new Date('2026-03-01T09:00:00+08:00'), retractedAt, by: Number(recognized.body.id) },
      { org: 'H2', taken: new Date('2026-03-02T10:00:00+08:00'), retractedAt, by: Number(declined.body.id) },
      { org: 'H3', taken: new Date('2026-03-03T08:00:00+08:00'), retractedAt: null, by: null },
    ]);
    // the statistics count what was missed on each day, and the decisions on theirs
    const expected = [
      { period: '2026-03-01', org: 'H2', missed: 1, missedCny: 6, recognized: 0, declined: 0, rate: 0 },
      { period: '2026-03-02', org: 'H2', missed: 0, missedCny: 0, recognized: 0, declined: 0, rate: null },
      { period: '2026-03-03', org: 'H3', missed: 1, missedCny: 6, recognized: 0, declined: 0, rate: 0 },
      { period: '2026-03-05', org: 'H2', missed: 0, missedCny: 0, recognized: 1, declined: 1, rate: 0.5 },
    ];
    const byDay = await lines('by=day&group=organization');
    expect(byDay.filter((l: { org: string; period: string }) => expected.some((e) => e.org === l.org && e.period === l.period))).toEqual(expected);
    expect(await lines('by=month&group=organization')).toEqual([
      { period: '2026-03', org: 'H2', missed: 1, missedCny: 6, recognized: 1, declined: 1, rate: 0.3333 },
      { period: '2026-03', org: 'H3', missed: 1, missedCny: 6, recognized: 0, declined: 0, rate: 0 },
    ]);
    // folded into the roll-ups, the same
    await stage.drain();
    expect(await t.hub.db('recognition_daily_deltas').count('* as n').first()).toEqual({ n: 0 });
    expect(await t.hub.db('recognition_daily').where({ day: '2026-03-02', organization_id: r.org('H2') }).first('missed', 'missed_cny')).toEqual({ missed: 0, missed_cny: 0 });
    expect(await lines('by=month&group=organization')).toEqual([
      { period: '2026-03', org: 'H2', missed: 1, missedCny: 6, recognized: 1, declined: 1, rate: 0.3333 },
      { period: '2026-03', org: 'H3', missed: 1, missedCny: 6, recognized: 0, declined: 0, rate: 0 },
    ]);

    // the other order: a repeat the check covers that reaches the hub after the decision is never recorded,
    // though the decision came more than a day after the repeat was taken
    await repeat('H2', 'P', '2026-03-02T11:00:00+08:00');
    // and mapping everything again retracts nothing back in, nor counts anything twice
    await t.hub.db('recognition_queue').insert((await t.hub.db('lab_reports').select('id')).map((l: { id: number }) => ({ kind: 'lab', result_id: l.id })));
    await stage.drain();
    expect(await t.hub.db('recognition_missed').count('* as n').first()).toEqual({ n: 4 });
    expect(await t.hub.db('recognition_missed').whereNull('retracted_at').count('* as n').first()).toEqual({ n: 2 });
    expect(await lines('by=month&group=organization')).toEqual([
      { period: '2026-03', org: 'H2', missed: 1, missedCny: 6, recognized: 1, declined: 1, rate: 0.3333 },
      { period: '2026-03', org: 'H3', missed: 1, missedCny: 6, recognized: 0, declined: 0, rate: 0 },
    ]);
  });
});
