import type { ErrorRequestHandler, Response } from 'express';
import { httpStatusOf, HubError, type ErrorKind } from '../errors';
import { operationOutcome } from '../fhir';
import type { Logger } from '../log';

// body-parser and friends raise errors with an HTTP status of their own; map the ones a client causes.
const statusKinds: Record<number, ErrorKind> = { 400: 'BadInput', 413: 'TooLarge', 415: 'Unsupported' };

function asHubError(err: unknown): HubError | null {
  if (err instanceof HubError) return err;
  const status = (err as { status?: number; type?: string })?.status;
  if (typeof status === 'number' && statusKinds[status]) {
    const type = (err as { type?: string }).type;
    const message = type === 'entity.parse.failed' ? 'the request body is not valid JSON' : (err as Error).message;
    return new HubError(statusKinds[status]!, message, { code: type });
  }
  return null;
}

/** Writes a failure in the door's vocabulary: an OperationOutcome under /fhir, a JSON error elsewhere. */
export function sendError(res: Response, err: HubError | null, fhir: boolean): void {
  const requestId = res.locals.requestId as string | undefined;
  const kind = err?.kind ?? 'Internal';
  const status = err ? httpStatusOf[err.kind] : 500;
  const message = err?.message ?? `internal error; request ${requestId ?? ''} identifies it in the hub's logs`.trim();
  if (kind === 'Unauthorized') {
    res.setHeader('WWW-Authenticate', `Bearer realm="regional-results-hub"${err?.detail.code === 'missing-token' ? '' : ', error="invalid_token"'}`);
  }
  res.status(status);
  if (fhir) {
    res.type('application/fhir+json').send(JSON.stringify(operationOutcome(kind, message, err?.detail.location)));
  } else {
    res.json({ error: { kind, message, ...err?.detail }, requestId });
  }
}

/** The one place an HTTP failure is translated; a failure that is not a HubError is a bug and answers 500. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const known = asHubError(err);
    if (known) log.info({ requestId: res.locals.requestId, kind: known.kind, code: known.detail.code }, known.message);
    else log.error({ requestId: res.locals.requestId, err }, 'request failed');
    sendError(res, known, req.path.startsWith('/fhir'));
  };
}
