import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Keys whose values never reach a log line, wherever they sit in a logged object. Patient
 * names and national IDs are patient data; secrets and tokens are credentials.
 */
const secretKeys = [
  'authorization',
  'cookie',
  'password',
  'secret',
  'clientSecret',
  'client_secret',
  'token',
  'accessToken',
  'access_token',
  'nationalId',
  'idNumber',
  'patientName',
  'PatientName',
  'name',
  'birthDate',
];

// An 18-character resident ID (17 digits + digit or X) anywhere in a string is masked even
// when it arrives inside free text, an error message or a URL.
const nationalIdLike = /(?<![0-9])([0-9]{6})[0-9]{8}([0-9]{3}[0-9Xx])(?![0-9])/g;

export function scrubText(text: string): string {
  return text.replace(nationalIdLike, '$1********$2');
}

function scrub(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    return { type: value.name, message: scrubText(value.message), stack: value.stack ? scrubText(value.stack) : undefined, ...scrubObject(value, depth) };
  }
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  return scrubObject(value as Record<string, unknown>, depth);
}

function scrubObject(value: object, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = secretKeys.includes(k) ? '[redacted]' : scrub(v, depth + 1);
  }
  return out;
}

export interface LogOptions {
  level: string;
  /** Where the JSON lines go; stdout by default (tests pass a stream to read them back). */
  destination?: pino.DestinationStream;
}

/** Structured JSON logs. Every object and message passes through the scrubber above. */
export function createLogger(options: LogOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => scrubObject(object, 0),
      },
      serializers: { err: (err: unknown) => scrub(err, 0) },
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((a) => (typeof a === 'string' ? scrubText(a) : a));
          method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
    },
    options.destination,
  );
}
