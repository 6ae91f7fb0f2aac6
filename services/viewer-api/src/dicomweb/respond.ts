import type { NextFunction, Request, Response } from 'express';
import { badInput } from '@hub/shared/errors';

/**
 * 406: none of the representations the Accept header names can be made. Not an error kind
 * of the hub (no other door has it), so written here in the app's JSON error shape.
 */
export function notAcceptable(res: Response, message: string): void {
  res.status(406).json({ error: { kind: 'NotAcceptable', message, code: 'not-acceptable' }, requestId: res.locals.requestId });
}

/** Study, series and instance UIDs in a path are UIDs (PS3.5 9.1): digits and dots, up to 64. */
export function checkUids(req: Request, _res: Response, next: NextFunction): void {
  for (const name of ['study', 'series', 'instance'] as const) {
    const uid = req.params[name];
    if (uid !== undefined && !/^[0-9.]{1,64}$/.test(String(uid))) throw badInput(`${name} "${String(uid).slice(0, 80)}" in the path is not a UID`, { location: name, code: 'invalid-uid' });
  }
  next();
}
