/**
 * What a machine client may do. A hospital's PACS or LIS gets `results:write`; its EMR gets
 * the read and recognition scopes; the authority gets `stats:read` and `catalog:write`.
 */
export const scopes = {
  'results:write': 'push imaging studies, lab results and patient registrations as the organization',
  'results:read': 'read results across the region (FHIR, DICOMweb), audited per patient',
  'recognition:check': 'run the prior-result check at order time',
  'recognition:decide': 'record a recognition decision',
  'stats:read': 'read the authority\'s aggregate statistics (never a patient)',
  'catalog:write': 'edit the regional catalog and qualifications',
  admin: 'manage organizations and clients',
} as const;

export type Scope = keyof typeof scopes;

export const allScopes = Object.keys(scopes) as Scope[];

export function isScope(value: string): value is Scope {
  return Object.hasOwn(scopes, value);
}
