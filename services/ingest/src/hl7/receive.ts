import { createHash } from 'node:crypto';
import { blobKeyFor } from '@hub/shared/blob';
import { isHubError } from '@hub/shared/errors';
import { ackErrorFromHubError, buildAck, buildAckForUnparseable, encodeText, parseMessage, type AckCode, type AckError, type Message } from '@hub/shared/hl7';
import type { Metrics } from '@hub/shared/http';
import type { Logger } from '@hub/shared/log';
import { Counter } from 'prom-client';
import type { Accept, Accepted } from '../accept';
import { labSubmissionOf } from './map';
import { ERR } from './problems';

export const HL7_MEDIA_TYPE = 'x-application/hl7-v2+er7';

export interface SendingOrganization {
  id: number;
  code: string;
}

export interface ReceiveOptions {
  /** The door: 'mllp' or 'http-hl7'. */
  source: 'mllp' | 'http-hl7';
  /** Who sent it: the organization, or the error an AR names (unknown sender). */
  organizationFor(message: Message): Promise<SendingOrganization | AckError>;
  /** Charset for a message whose MSH-18 is empty (e.g. from an HTTP Content-Type). */
  defaultCharset?: string;
}

export interface ReceivedHl7 {
  /** The ACK, encoded in the charset of the message it answers. */
  ack: Buffer;
  code: AckCode;
  charset: string;
  /** Set when the message was accepted (AA). */
  accepted?: Accepted;
}

export interface Hl7ReceiverDeps {
  accept: Accept;
  idHashSecret: string;
  log: Logger;
  metrics?: Metrics;
  now?: () => Date;
}

/** A message handed over to the accept path; its ACK follows once it is durable (or refused). */
export interface AdmittedHl7 {
  ack: Promise<ReceivedHl7>;
}

export interface Hl7Receiver {
  /** One message in, its ACK out. */
  (bytes: Buffer, options: ReceiveOptions): Promise<ReceivedHl7>;
  /**
   * The same in two steps, for a door that pipelines: resolves once the message is read,
   * checked and handed to accept (or refused), so that admitting messages one after the other
   * hands them to accept in that order — a correction after the result it corrects — while
   * their ACKs come as their batches commit.
   */
  admit(bytes: Buffer, options: ReceiveOptions): Promise<AdmittedHl7>;
}

let ackSequence = 0;
/** MSH-10 of an ACK: unique per process and within HL7's 20 characters. */
function ackControlId(): string {
  ackSequence = (ackSequence + 1) % 36 ** 5;
  return `HUB${Date.now().toString(36).toUpperCase()}${ackSequence.toString(36).toUpperCase().padStart(5, '0')}`;
}

/** MSH-10 as a blob key segment: letters, digits and `._=-` only. */
function safeControlId(controlId: string): string {
  const safe = controlId.replace(/[^A-Za-z0-9._=-]/g, '_').slice(0, 120);
  return /^[A-Za-z0-9]/.test(safe) ? safe : `m${safe}`;
}

/** The calendar date in China, for grouping originals by the day they arrived. */
function chinaDate(now: Date): string {
  return new Date(now.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
}

/**
 * One HL7 v2 message in, one ACK out — the part MLLP and HTTP share. AR when the message
 * cannot be processed at all (unparseable, unknown sender, storage unavailable); AE naming
 * segment and field when its content is wrong (nothing is stored then); AA only after the
 * original is in the blob store and its row committed. The same MSH-10 with the same bytes
 * again is a duplicate, answered AA without a second row.
 */
export function createHl7Receiver(deps: Hl7ReceiverDeps): Hl7Receiver {
  const now = deps.now ?? (() => new Date());
  const counted = new Counter({
    name: 'hub_hl7_messages_total',
    help: 'HL7 v2 messages answered, by door and acknowledgment code',
    labelNames: ['source', 'ack'] as const,
    registers: deps.metrics ? [deps.metrics.registry] : [],
  });

  const admit = async (bytes: Buffer, options: ReceiveOptions): Promise<AdmittedHl7> => {
    const settled = (received: ReceivedHl7): AdmittedHl7 => ({ ack: Promise.resolve(received) });
    let message: Message;
    try {
      message = parseMessage(bytes, options.defaultCharset ? { defaultCharset: options.defaultCharset } : {});
    } catch (err) {
      if (!isHubError(err)) throw err;
      counted.inc({ source: options.source, ack: 'AR' });
      deps.log.info({ source: options.source, code: err.detail.code, location: err.detail.location }, 'HL7 message refused: unreadable');
      const ack = buildAckForUnparseable(bytes, { controlId: ackControlId(), errors: [ackErrorFromHubError(err)], now: now() });
      return settled({ ack: Buffer.from(ack, 'utf8'), code: 'AR', charset: 'utf8' });
    }

    const answer = (code: AckCode, errors: AckError[] = [], accepted?: Accepted): ReceivedHl7 => {
      counted.inc({ source: options.source, ack: code });
      const text = buildAck(message, { code, controlId: ackControlId(), errors, now: now() });
      return { ack: encodeText(text, message.charset), code, charset: message.charset, ...(accepted ? { accepted } : {}) };
    };
    const context = { source: options.source, controlId: message.controlId, type: `${message.messageType.code}^${message.messageType.trigger ?? ''}` };

    const organization = await options.organizationFor(message);
    if (!('id' in organization)) {
      deps.log.info({ ...context, facility: message.get('MSH-4') }, 'HL7 message refused: unknown sender');
      return settled(answer('AR', [organization]));
    }

    const mapped = labSubmissionOf(message, { idHashSecret: deps.idHashSecret, now: now() });
    if (!mapped.ok) {
      deps.log.info({ ...context, organization: organization.code, errors: mapped.errors.map((e) => `${e.location ?? ''} ${e.applicationCode ?? e.code}`) }, 'HL7 message refused: content');
      return settled(answer('AE', mapped.errors));
    }

    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const accepting = deps.accept({
      kind: 'hl7v2',
      organizationId: organization.id,
      identity: `${organization.id}|${message.controlId}`,
      source: options.source,
      blobKey: blobKeyFor('hl7v2', organization.code, chinaDate(now()), `${safeControlId(message.controlId)}-${sha256}.hl7`),
      body: bytes,
      size: bytes.length,
      sha256,
      contentType: HL7_MEDIA_TYPE,
      summary: { ...mapped.submission, controlId: message.controlId, charset: message.charset },
    });
    return {
      ack: accepting.then(
        (accepted) => {
          deps.log.debug({ ...context, organization: organization.code, outcome: accepted.outcome, acceptedId: accepted.acceptedId }, 'HL7 message accepted');
          return answer('AA', [], accepted);
        },
        (err) => {
          // The message is fine; the hub is not. AR tells the sender to keep it and send again.
          deps.log.error({ ...context, organization: organization.code, err }, 'HL7 message could not be stored');
          return answer('AR', [{ code: ERR.internal, message: 'the hub could not store the message now; keep it and send it again', applicationCode: 'storage-unavailable' }]);
        },
      ),
    };
  };

  const receive = async (bytes: Buffer, options: ReceiveOptions) => (await admit(bytes, options)).ack;
  return Object.assign(receive, { admit });
}
