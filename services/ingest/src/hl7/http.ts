import express, { Router } from 'express';
import { principalOf, requireScope } from '@hub/shared/auth';
import { isHubError, unsupported } from '@hub/shared/errors';
import { charsetFromName, DEFAULT_MAX_FRAME_BYTES } from '@hub/shared/hl7';
import { HL7_MEDIA_TYPE, type Hl7Receiver } from './receive';

export const HL7_HTTP_PATH = '/hl7v2';

/** Media types LIS use to POST ER7 (pipe-delimited) HL7 v2. */
const MEDIA_TYPES = new Set([HL7_MEDIA_TYPE, 'application/hl7-v2', 'application/hl7-v2+er7', 'text/plain']);

/** The name an HTTP charset parameter carries for an iconv-lite charset. */
const httpCharset = (charset: string) => (charset === 'utf8' ? 'utf-8' : charset);

/**
 * HL7 v2 over HTTP for an LIS without MLLP: POST one message, get its ACK in the body.
 * Every AA, AE and AR is HTTP 200 with the ACK (the answer is the ACK, as over MLLP); the
 * organization is the token's. A Content-Type charset is used only for a message whose
 * MSH-18 is empty — MSH-18 has the last word, as over MLLP.
 */
export function createHl7HttpRouter(deps: { receive: Hl7Receiver; maxBytes?: number }): Router {
  const router = Router();
  router.post(
    HL7_HTTP_PATH,
    requireScope('results:write'),
    (req, _res, next) => {
      const type = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (!MEDIA_TYPES.has(type)) {
        throw unsupported(`POST ${HL7_HTTP_PATH} takes one HL7 v2 message as ${HL7_MEDIA_TYPE} (or text/plain)`, { location: 'Content-Type', code: 'unsupported-media-type' });
      }
      next();
    },
    express.raw({ type: () => true, limit: deps.maxBytes ?? DEFAULT_MAX_FRAME_BYTES }),
    async (req, res) => {
      const organization = principalOf(res).organization;
      const declared = /;\s*charset="?([^";]+)"?/i.exec(req.get('content-type') ?? '')?.[1];
      let defaultCharset: string | undefined;
      if (declared) {
        try {
          if (charsetFromName(declared) !== 'detect') defaultCharset = declared;
        } catch (err) {
          if (!isHubError(err)) throw err;
          throw unsupported(`charset ${declared} is not supported (use UTF-8, GB18030 or GBK)`, { location: 'Content-Type', code: 'unsupported-charset' });
        }
      }
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const result = await deps.receive(body, {
        source: 'http-hl7',
        organizationFor: async () => ({ id: organization.id, code: organization.code }),
        ...(defaultCharset ? { defaultCharset } : {}),
      });
      res.status(200).type(`${HL7_MEDIA_TYPE}; charset=${httpCharset(result.charset)}`).send(result.ack);
    },
  );
  return router;
}
