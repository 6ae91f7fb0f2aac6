import express, { Router, type Request, type Response } from 'express';
import { recordAudit, type AuditEvent } from '@hub/shared/audit';
import { principalOf, requireScope } from '@hub/shared/auth';
import type { Knex } from '@hub/shared/db';
import { badInput, forbidden, notFound } from '@hub/shared/errors';
import { listConsents, patientAt, recordConsent, revokeConsent } from './consents';
import { addDays, isCalendarDate, startOfDay } from './dates';
import { organizationAt, placementOf } from './regions';
import { consentSchema, parseWith, revokeSchema } from './schemas';

const json = express.json({ limit: '64kb' });

/**
 * Consents, recorded and revoked by the patient's own organization (one that holds a record of
 * the patient) and listed for it; every call is a patient-level act and is audited.
 */
export function createConsentRoutes(deps: { db: Knex; now: () => Date }): Router {
  const { db, now } = deps;
  const router = Router();

  const audit = (req: Request, res: Response, event: Omit<AuditEvent, 'outcome'>) => {
    const principal = principalOf(res);
    return recordAudit(db, {
      outcome: 'ok',
      ...event,
      organizationId: principal.organization.id,
      clientId: principal.clientId,
      practitioner: req.get('x-practitioner')?.slice(0, 200) || undefined,
      requestId: res.locals.requestId as string | undefined,
    });
  };

  router.post('/recognition/consents', requireScope('results:write'), json, async (req, res) => {
    const body = parseWith(consentSchema, req.body);
    const caller = principalOf(res).organization;
    const patient = await patientAt(db, { organizationId: caller.id, localId: body.patient });
    const { region } = await placementOf(db, caller.id);
    // a day means the whole day in the region: from its first instant, until the end of the until-day
    const validFrom = body.from === undefined ? now() : isCalendarDate(body.from) ? startOfDay(body.from, region.timeZone) : new Date(body.from);
    const validUntil = body.until == null ? null : isCalendarDate(body.until) ? startOfDay(addDays(body.until, 1), region.timeZone) : new Date(body.until);
    if (validUntil && validUntil <= validFrom) throw badInput('the consent ends after it starts', { location: 'until', code: 'period-reversed' });
    const organizationIds = await Promise.all((body.organizations ?? []).map(async (o, i) => (await organizationAt(db, o, `organizations[${i}]`)).id));
    const consent = await recordConsent(
      db,
      {
        personId: patient.personId,
        recordedByOrganizationId: caller.id,
        practitioner: body.practitioner ?? req.get('x-practitioner')?.slice(0, 200) ?? null,
        scope: body.scope === 'region' ? { kind: 'region', regionId: region.id } : { kind: 'organizations', organizationIds },
        purpose: body.purpose,
        method: body.method,
        validFrom,
        validUntil,
      },
      now(),
    );
    await audit(req, res, { action: 'consent.record', patientId: patient.patientId, resourceType: 'Consent', resourceId: String(consent.id), purpose: body.purpose });
    res.status(201).json(consent);
  });

  router.get('/recognition/consents', async (req, res) => {
    const principal = principalOf(res);
    if (!principal.scopes.includes('results:read') && !principal.scopes.includes('results:write')) {
      throw forbidden('the access token lacks the scope results:read', { code: 'insufficient-scope' });
    }
    const localId = req.query.patient;
    if (typeof localId !== 'string' || !localId.trim()) throw badInput("name the patient by your organization's id: ?patient=MRN", { location: 'patient', code: 'required' });
    const patient = await patientAt(db, { organizationId: principal.organization.id, localId: localId.trim() });
    const consents = await listConsents(db, { personId: patient.personId, now: now() });
    await audit(req, res, { action: 'consent.list', patientId: patient.patientId, resourceType: 'Consent' });
    res.json({ patient: localId.trim(), count: consents.length, consents });
  });

  router.post('/recognition/consents/:id/revoke', requireScope('results:write'), json, async (req, res) => {
    const id = Number(String(req.params.id));
    if (!/^\d{1,15}$/.test(String(req.params.id))) throw notFound(`no consent ${String(req.params.id)}`, { location: 'id', code: 'unknown-consent' });
    const body = parseWith(revokeSchema, req.body);
    const { consent, patientId } = await revokeConsent(db, { consentId: id, byOrganizationId: principalOf(res).organization.id, reason: body.reason ?? null, at: now() });
    await audit(req, res, { action: 'consent.revoke', patientId, resourceType: 'Consent', resourceId: String(consent.id) });
    res.json(consent);
  });

  return router;
}
