import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { Router } from 'express';
import { principalOf, requireScope } from '@hub/shared/auth';
import { isValidUid } from '@hub/shared/dicom';
import { badInput, unsupported } from '@hub/shared/errors';
import type { Logger } from '@hub/shared/log';
import { DicomStatus, type AcceptInstance, type InstanceOutcome, type Spool, type SpoolWriter } from '../dicom';
import { MultipartParser, parseMediaType } from './multipart';
import { stowResponse } from './response';

export interface StowDeps {
  acceptInstance: AcceptInstance;
  spool: Spool;
  /** The hub's public URL, for the Retrieve URLs in the response. */
  publicUrl: string;
  log: Logger;
}

/** The boundary of a STOW-RS request body; 415 for any other media type than DICOM Part-10 instances. */
function boundaryOf(contentType: string | undefined): string {
  const { type, params } = parseMediaType(contentType ?? '');
  const partType = params.get('type')?.toLowerCase();
  if (type !== 'multipart/related' || (partType !== undefined && partType !== 'application/dicom')) {
    throw unsupported(
      `STOW-RS here takes multipart/related; type="application/dicom" (DICOM Part-10 instances), not ${contentType ? `"${contentType}"` : 'a request without Content-Type'}`,
      { code: 'unsupported-media-type', location: 'Content-Type' },
    );
  }
  const boundary = params.get('boundary');
  if (!boundary) throw badInput('the multipart/related Content-Type has no boundary parameter', { code: 'missing-boundary', location: 'Content-Type' });
  return boundary;
}

const isDicomPart = (headers: Map<string, string>) => {
  const type = headers.get('content-type');
  return type === undefined || parseMediaType(type).type === 'application/dicom';
};

/**
 * STOW-RS (PS3.18 10.5): the body is parsed as it arrives; each part streams to a spool file
 * while it is hashed, and is accepted while the next part arrives (one accept in flight, so a
 * slow store slows the sender instead of filling the disk). Spool files are removed whatever
 * happens.
 */
export function createStowRouter(deps: StowDeps): Router {
  const router = Router();
  router.post('/dicomweb/studies{/:study}', requireScope('results:write'), async (req, res) => {
    const organizationId = principalOf(res).organization.id;
    const boundary = boundaryOf(req.get('content-type'));
    const study = req.params.study as string | undefined;
    if (study !== undefined && !isValidUid(study)) throw badInput(`"${study.slice(0, 80)}" is not a valid Study Instance UID`, { code: 'invalid-study-instance-uid', location: 'path' });

    const outcomes = await receiveInstances(req, boundary, async (file) => deps.acceptInstance(file, { organizationId, door: 'stow-rs', studyInstanceUid: study }), deps.spool);
    const { status, body } = stowResponse(outcomes, deps.publicUrl, study);
    deps.log.info({ organizationId, instances: outcomes.length, failed: outcomes.filter((o) => !o.ok).length }, 'STOW-RS request');
    res.status(status).type('application/dicom+json').send(JSON.stringify(body));
  });
  return router;
}

type AcceptSpooled = (file: Awaited<ReturnType<SpoolWriter['finished']>>) => Promise<InstanceOutcome>;

async function receiveInstances(body: Readable, boundary: string, acceptOne: AcceptSpooled, spool: Spool): Promise<InstanceOutcome[]> {
  const parser = new MultipartParser(boundary);
  const outcomes: InstanceOutcome[] = [];
  let writer: SpoolWriter | undefined;
  let skipping = false;
  let inFlight: Promise<void> = Promise.resolve();

  const finishPart = async (w: SpoolWriter, slot: number) => {
    try {
      w.end();
      const file = await w.finished();
      outcomes[slot] = await acceptOne(file);
    } catch (err) {
      // The spool could not be written (disk full): this instance fails, the request goes on.
      outcomes[slot] = { ok: false, status: DicomStatus.OutOfResources, code: (err as { code?: string }).code ?? 'spool-failed', reason: 'the hub cannot take the instance now' };
    } finally {
      await w.discard();
    }
  };

  try {
    for await (const chunk of body) {
      for (const event of parser.push(chunk as Buffer)) {
        if (event.type === 'part') {
          skipping = !isDicomPart(event.headers);
          if (skipping) {
            outcomes.push({ ok: false, status: DicomStatus.CannotUnderstand, code: 'not-application-dicom', reason: `a part of type "${event.headers.get('content-type')}" is not application/dicom` });
          } else {
            writer = spool.create({ dataSetAt: 'part10' });
          }
        } else if (event.type === 'data') {
          // Wait for the disk before reading on: the request body is read only as fast as it is spooled.
          if (!skipping && writer && !writer.destroyed && !writer.write(event.chunk)) await Promise.race([once(writer, 'drain'), once(writer, 'close')]).catch(() => undefined);
        } else if (!skipping && writer) {
          const w = writer;
          writer = undefined;
          const slot = outcomes.push({ ok: false, status: DicomStatus.ProcessingFailure, code: 'pending', reason: '' }) - 1;
          await inFlight; // one accept at a time, overlapping with receiving the next part
          inFlight = finishPart(w, slot);
        }
      }
    }
    parser.end();
  } catch (err) {
    await writer?.discard();
    await inFlight;
    if ((err as { code?: string }).code === 'ECONNRESET' || (err as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE') {
      throw badInput('the request body was cut off before it ended', { code: 'request-aborted' });
    }
    throw err;
  }
  await inFlight;
  if (parser.partCount === 0) throw badInput('the request holds no instance', { code: 'empty-request' });
  return outcomes;
}
