/**
 * HL7 v2 (2.3–2.5.1) codec: parse a message, build messages and ACKs, frame them for MLLP.
 * No sockets and no domain rules here: the MLLP door and the indexer use these.
 */
export { parseMessage, type ParseOptions } from './parse';
export {
  Message,
  Segment,
  component,
  field,
  parseLocation,
  parsePosition,
  HL7_NULL,
  type Component,
  type Field,
  type FieldPosition,
  type Location,
  type MessageType,
  type Repetition,
} from './message';
export { encodeMessage, repeat, fieldInput, type ComponentInput, type EncodeOptions, type FieldInput, type Leaf, type RepetitionInput, type SegmentInput } from './encode';
export { escapeValue, unescapeValue } from './escape';
export { STANDARD_ENCODING, type EncodingCharacters } from './delimiters';
export { charsetFromName, detectCharset, encodeText, type Charset, type CharsetSource } from './charset';
export {
  buildAck,
  buildAckForUnparseable,
  ackErrorFromHubError,
  versionAtLeast,
  HL7_ERROR_CODES,
  type AckCode,
  type AckError,
  type AckOptions,
  type ErrorSeverity,
} from './ack';
export { MllpDecoder, frame, DEFAULT_MAX_FRAME_BYTES, type MllpDecoderOptions } from './mllp';
