import type { Resource, SearchPage, SearchParams, SearchResult } from './types';

/** Rebuilds a search URL with the same parameters and another page. */
function pageUrl(base: string, type: string, params: SearchParams, page: SearchPage, offset: number, linkValue: (value: string) => string): string {
  const query = new URLSearchParams();
  for (const [name, values] of params) for (const value of values) query.append(name, linkValue(value));
  for (const sort of page.sort.length ? [page.sort.join(',')] : []) query.set('_sort', sort);
  for (const include of page.include) query.append('_include', include);
  query.set('_count', String(page.count));
  query.set('_offset', String(offset));
  return `${base}/${type}?${query.toString()}`;
}

/** A searchset Bundle with self/next/previous links (FHIR R4 paging). */
export function searchsetBundle(
  base: string,
  type: string,
  params: SearchParams,
  page: SearchPage,
  result: SearchResult,
  /** How a parameter value may stand in a link (a national ID only as its keyed hash). */
  linkValue: (value: string) => string = (v) => v,
): Resource {
  const more = result.total !== undefined ? page.offset + result.matches.length < result.total : Boolean(result.more);
  const link = [{ relation: 'self', url: pageUrl(base, type, params, page, page.offset, linkValue) }];
  if (more) link.push({ relation: 'next', url: pageUrl(base, type, params, page, page.offset + page.count, linkValue) });
  if (page.offset > 0) link.push({ relation: 'previous', url: pageUrl(base, type, params, page, Math.max(0, page.offset - page.count), linkValue) });
  const entry = [
    ...result.matches.map((r) => ({ fullUrl: `${base}/${r.resourceType}/${r.id}`, resource: r, search: { mode: 'match' } })),
    ...(result.included ?? []).map((r) => ({ fullUrl: `${base}/${r.resourceType}/${r.id}`, resource: r, search: { mode: 'include' } })),
  ];
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    ...(result.total !== undefined ? { total: result.total } : {}),
    link,
    entry,
  };
}
