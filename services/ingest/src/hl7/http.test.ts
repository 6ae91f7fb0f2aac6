import iconv from 'iconv-lite';
import { parseMessage } from '@hub/shared/hl7';
import { startTestHub, type TestHub } from '@hub/shared/testing';
import { createAccept } from '../accept';
import { createHl7HttpRouter } from './http';
import { createHl7Receiver } from './receive';

const oru = (id: string, msh18 = 'UNICODE UTF-8', pid = 'PID|1||M77^^^H1^MR||周^杰||19790118|M') =>
  [`MSH|^~\\&|LIS|H1|HUB|REGION|20240315103000||ORU^R01|${id}|P|2.5.1|||AL|NE||${msh18}`, pid, 'OBR|1||F-1|GLU^葡萄糖^L|||20240315080000', 'OBX|1|NM|GLU^葡萄糖^L||5.2|mmol/L|3.9-6.1||||F'].join('\r') + '\r';

describe('HL7 v2 over HTTP', () => {
  let t: TestHub;
  let token: string;
  beforeAll(async () => {
    t = await startTestHub((hub) => {
      const receive = createHl7Receiver({ accept: createAccept({ db: hub.db, blob: hub.blob, log: hub.log }), idHashSecret: hub.idHashSecret, log: hub.log });
      return [{ name: 'hl7-http', mount: (app) => app.use(createHl7HttpRouter({ receive })) }];
    });
    token = await t.tokenFor('H1', ['results:write']);
  });
  afterAll(() => t.stop());

  const post = (body: string | Buffer, type = 'x-application/hl7-v2+er7', auth = token) =>
    fetch(`${t.baseUrl}/hl7v2`, { method: 'POST', headers: { authorization: `Bearer ${auth}`, 'content-type': type }, body });

  it('accepts a message for the organization of the token and answers the ACK in the body', async () => {
    const res = await post(oru('H-1'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('x-application/hl7-v2+er7; charset=utf-8');
    const ack = parseMessage(Buffer.from(await res.arrayBuffer()));
    expect([ack.get('MSA-1'), ack.get('MSA-2')]).toEqual(['AA', 'H-1']);
    const h1 = await t.hub.db('organizations').where({ code: 'H1' }).first('id');
    expect(await t.hub.db('accepted_objects').where({ identity: `${h1.id}|H-1` }).first('source', 'organization_id')).toEqual({ source: 'http-hl7', organization_id: h1.id });
  });

  it('answers content errors with AE and unreadable messages with AR, both as HTTP 200', async () => {
    const ae = parseMessage(Buffer.from(await (await post(oru('H-2', 'UNICODE UTF-8', 'PID|1||'), 'text/plain')).arrayBuffer()));
    expect([ae.get('MSA-1'), ae.get('ERR-2.1'), ae.get('ERR-2.3'), ae.get('ERR-3.1')]).toEqual(['AE', 'PID', '3', '101']);
    const ar = await post('PID|1||M1\r');
    expect(ar.status).toBe(200);
    expect(parseMessage(Buffer.from(await ar.arrayBuffer())).get('MSA-1')).toBe('AR');
  });

  it('reads a GB18030 message by its Content-Type charset when MSH-18 is empty, and answers in it', async () => {
    const res = await post(iconv.encode(oru('H-3', ''), 'gb18030'), 'x-application/hl7-v2+er7; charset=GB18030');
    expect(res.headers.get('content-type')).toBe('x-application/hl7-v2+er7; charset=gb18030');
    expect(iconv.decode(Buffer.from(await res.arrayBuffer()), 'gb18030')).toContain('MSA|AA|H-3');
    const row = await t.hub.db('accepted_objects').where('identity', 'like', '%|H-3').first('summary');
    expect(row.summary.groups[0].patient.name).toEqual({ ideographic: '周^杰' });
  });

  it('refuses another media type with 415, and needs results:write', async () => {
    expect((await post('{}', 'application/json')).status).toBe(415);
    const reader = await t.tokenFor('H1', ['results:read']);
    expect((await post(oru('H-4'), 'text/plain', reader)).status).toBe(403);
  });
});
