import { randomBytes } from 'node:crypto';
import { brief, request, type HttpAnswer } from './http';
import { expectEndpoint, type Target } from './target';

/**
 * The DICOMweb client side of the benchmarks: STOW-RS requests built as multipart/related
 * (whole, or streamed part by part), QIDO-RS searches and WADO-RS study retrievals.
 */
const CRLF = '\r\n';

export interface Multipart {
  contentType: string;
  head: Buffer;
  tail: Buffer;
  end: Buffer;
}

export function multipart(): Multipart {
  const boundary = `bench-${randomBytes(12).toString('hex')}`;
  return {
    contentType: `multipart/related; type="application/dicom"; boundary=${boundary}`,
    head: Buffer.from(`--${boundary}${CRLF}Content-Type: application/dicom${CRLF}${CRLF}`),
    tail: Buffer.from(CRLF),
    end: Buffer.from(`--${boundary}--${CRLF}`),
  };
}

/** One STOW-RS request holding `instances`. */
export async function stow(target: Target, instances: readonly Buffer[]): Promise<HttpAnswer> {
  const m = multipart();
  const body = Buffer.concat([...instances.flatMap((i) => [m.head, i, m.tail]), m.end]);
  return postStow(target, instances.length, body, m.contentType);
}

/**
 * One STOW-RS request of `count` instances of `size` bytes each, built as they are sent:
 * neither this client nor the request ever holds more than one instance.
 */
export async function stowStream(target: Target, count: number, size: number, instance: (i: number) => Buffer): Promise<HttpAnswer> {
  const m = multipart();
  const contentLength = count * (m.head.length + size + m.tail.length) + m.end.length;
  function* chunks(): Generator<Buffer> {
    for (let i = 0; i < count; i++) {
      const bytes = instance(i);
      if (bytes.length !== size) throw new Error(`instance ${i} is ${bytes.length} bytes, not ${size}`);
      yield m.head;
      yield bytes;
      yield m.tail;
    }
    yield m.end;
  }
  return postStow(target, count, chunks(), m.contentType, contentLength);
}

async function postStow(target: Target, count: number, body: Buffer | Iterable<Buffer>, contentType: string, contentLength?: number): Promise<HttpAnswer> {
  const answer = await request(`${target.dicomweb}/studies`, {
    method: 'POST',
    headers: { ...(await target.headers()), 'content-type': contentType, accept: 'application/dicom+json' },
    body,
    contentLength,
  });
  expectEndpoint(target, 'STOW-RS at POST /studies', answer.status);
  if (answer.status !== 200) throw new Error(`${target.name} STOW-RS answered ${answer.status}: ${brief(answer)}`);
  // The figures count only instances the answer says were stored.
  const outcome = stowOutcome(answer);
  if (outcome && (outcome.failed > 0 || outcome.referenced !== count)) {
    throw new Error(`${target.name} STOW-RS answered 200 for ${count} instances with ${outcome.referenced} stored and ${outcome.failed} failed: ${brief(answer)}`);
  }
  return answer;
}

/** Entries of the Referenced (0008,1199) and Failed (0008,1198) SOP Sequences of a STOW-RS answer. */
function stowOutcome(answer: HttpAnswer): { referenced: number; failed: number } | undefined {
  try {
    const body = JSON.parse(answer.body.toString('utf8')) as Record<string, { Value?: unknown[] }>;
    return { referenced: body['00081199']?.Value?.length ?? 0, failed: body['00081198']?.Value?.length ?? 0 };
  } catch {
    return undefined;
  }
}

export interface Search {
  /** Path below the DICOMweb root, e.g. "studies". */
  path: string;
  params: Record<string, string>;
}

/**
 * The query as viewers write it: the PN component separator ^ left as it is. Orthanc 1.10
 * matches nothing for a PatientName whose ^ arrives percent-encoded (%5E).
 */
export function queryString(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v).replace(/%5E/gi, '^')}`)
    .join('&');
}

/** A QIDO-RS search; resolves with its latency and the number of matches. */
export async function qido(target: Target, search: Search): Promise<{ ms: number; matches: number }> {
  const url = `${target.dicomweb}/${search.path}?${queryString(search.params)}`;
  const started = performance.now();
  const answer = await request(url, { headers: { ...(await target.headers()), accept: 'application/dicom+json' } });
  const ms = performance.now() - started;
  expectEndpoint(target, `QIDO-RS at GET /${search.path}`, answer.status);
  if (answer.status === 204) return { ms, matches: 0 };
  if (answer.status !== 200) throw new Error(`${target.name} QIDO-RS ${url} answered ${answer.status}: ${brief(answer)}`);
  return { ms, matches: (JSON.parse(answer.body.toString('utf8')) as unknown[]).length };
}

/** The number of instances a study has, per QIDO-RS (0 while it is not yet searchable). */
export async function studyInstanceCount(target: Target, studyUid: string): Promise<number> {
  const url = `${target.dicomweb}/studies?StudyInstanceUID=${studyUid}&includefield=00201208`;
  const answer = await request(url, { headers: { ...(await target.headers()), accept: 'application/dicom+json' } });
  expectEndpoint(target, 'QIDO-RS at GET /studies', answer.status);
  if (answer.status === 204) return 0;
  if (answer.status !== 200) throw new Error(`${target.name} QIDO-RS answered ${answer.status}: ${brief(answer)}`);
  const studies = JSON.parse(answer.body.toString('utf8')) as Array<Record<string, { Value?: unknown[] }>>;
  return Number(studies[0]?.['00201208']?.Value?.[0] ?? 0);
}

/** Polls QIDO-RS until the study shows `count` instances; resolves with the seconds waited. */
export async function waitUntilSearchable(target: Target, studyUid: string, count: number, timeoutMs = 600_000): Promise<number> {
  const started = performance.now();
  for (;;) {
    const found = await studyInstanceCount(target, studyUid);
    const waited = (performance.now() - started) / 1000;
    if (found >= count) return waited;
    if (waited * 1000 > timeoutMs) throw new Error(`${target.name}: study has ${found} of ${count} instances searchable after ${Math.round(waited)} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** WADO-RS retrieval of a whole study as multipart/related application/dicom; counts the bytes. */
export async function retrieveStudy(target: Target, studyUid: string): Promise<{ bytes: number; seconds: number }> {
  const started = performance.now();
  const answer = await request(`${target.dicomweb}/studies/${studyUid}`, {
    headers: { ...(await target.headers()), accept: 'multipart/related; type="application/dicom"' },
    onChunk: () => undefined,
  });
  const seconds = (performance.now() - started) / 1000;
  expectEndpoint(target, 'WADO-RS at GET /studies/{study}', answer.status);
  if (answer.status !== 200) throw new Error(`${target.name} WADO-RS answered ${answer.status}`);
  return { bytes: answer.bytes, seconds };
}
