import type { Request, Response } from 'express';
import type { Knex } from '@hub/shared/db';
import type { DicomJson } from '@hub/shared/dicom';
import { levelsOf, resultJson, sortedJson, type Level, type Row } from './attributes';
import type { DicomwebAudit } from './audit';
import { negotiate } from './accept';
import { targetUrl } from './instances';
import { assertIndexServed, parseQidoQuery } from './qido-query';
import { authorizeStudies, qidoReader } from './access';
import { instanceMetadataAttributes, runQidoSearch, SCAN_WINDOW } from './qido-search';
import { notAcceptable } from './respond';

export interface QidoDeps {
  db: Knex;
  audit: DicomwebAudit;
  /** `${publicUrl}/dicomweb` */
  base: string;
}

/**
 * A QIDO-RS search (PS3.18 10.6) at one level, scoped by the study and series in the path.
 * No match is 200 with an empty array: the 204 of earlier editions contradicts RFC 9110 (a
 * 204 has no content) and DICOM correction CP-2473 moves PS3.18 to 200, which every JSON
 * client can parse.
 */
export function qidoHandler(deps: QidoDeps, level: Level) {
  return async (req: Request, res: Response): Promise<void> => {
    const scope = { study: req.params.study as string | undefined, series: req.params.series as string | undefined };
    const q = parseQidoQuery(level, scope, req.query as Record<string, unknown>);
    if (!negotiate(req.get('accept'), [{ partType: 'application/dicom+json', singlePart: true, transferSyntaxes: [] }, { partType: 'application/json', singlePart: true, transferSyntaxes: [] }])) {
      return notAcceptable(res, 'QIDO-RS answers in application/dicom+json');
    }
    assertIndexServed(q);
    const action = `dicomweb-search-${level}`;
    const found = await runQidoSearch(deps.db, q, qidoReader(deps.db, deps.audit, req, res, action));
    // how each study found may be read, for the audit log (and in case a consent ended meanwhile)
    const studies = new Map((await authorizeStudies(deps.db, req, res, found.rows.map((r: Row) => ({ studyUid: r.study_uid, personId: r.person_id, organizationId: r.organization_id })))).map((s) => [s.studyUid, s]));
    const rows = found.rows.filter((r: Row) => studies.get(r.study_uid)!.authorization.allowed);

    // what the instance rows do not hold but includefield asked for comes from the stored metadata
    const levels = levelsOf(level, scope);
    let extra = new Map<string, Record<string, unknown>>();
    if (level === 'instance' && (q.include.all || q.include.tags.size > 0)) {
      extra = await instanceMetadataAttributes(deps.db, rows.map((r) => r.sop_instance_uid), q.include.all ? 'all' : [...q.include.tags]);
    }
    await deps.audit.record(res, action, rows.map((r: Row) => studies.get(r.study_uid)!), { level, results: rows.length });

    const results = rows.map((row) => {
      const urls = {
        study: targetUrl(deps.base, { study: row.study_uid }),
        series: row.series_uid && targetUrl(deps.base, { study: row.study_uid, series: row.series_uid }),
        instance: row.sop_instance_uid && targetUrl(deps.base, { study: row.study_uid, series: row.series_uid, instance: row.sop_instance_uid }),
      };
      const json = resultJson(row, levels, q.include, urls);
      const fromMetadata = extra.get(row.sop_instance_uid);
      return sortedJson(fromMetadata ? { ...(fromMetadata as DicomJson), ...json } : json);
    });

    const warnings: string[] = [];
    if (q.ignored.length > 0) warnings.push(`299 hub "The following attributes are not supported for matching and were ignored: ${q.ignored.join(', ').replace(/"/g, "'")}"`);
    if (found.more) warnings.push('299 hub "There are additional results that can be requested"');
    if (found.cut) warnings.push(`299 hub "The search examined the ${SCAN_WINDOW} newest matches beyond this page; older ones may exist: narrow it (PatientID, PatientName, StudyDate) to find them"`);
    if (warnings.length > 0) res.setHeader('Warning', warnings);
    res.status(200).type('application/dicom+json').send(JSON.stringify(results));
  };
}
