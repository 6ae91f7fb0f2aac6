/**
 * The Accept header of a DICOMweb retrieve (PS3.18 8.7): media ranges with their parameters
 * and q values, best first. The hub sends objects as stored, never transcoded, so a
 * representation is acceptable when its transfer syntax is `*`, absent, or the stored one.
 */
export interface MediaRange {
  type: string;
  params: Record<string, string>;
  q: number;
}

/** Splits on commas and semicolons outside quotes. */
function split(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const c of s) {
    if (c === '"') quoted = !quoted;
    if (c === sep && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header || header.trim() === '') return [{ type: '*/*', params: {}, q: 1 }];
  const ranges = split(header, ',')
    .map((part, i) => {
      const [type, ...rest] = split(part, ';').map((s) => s.trim());
      const params: Record<string, string> = {};
      for (const p of rest) {
        const eq = p.indexOf('=');
        if (eq > 0) params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
      }
      const q = params.q === undefined ? 1 : Number(params.q);
      delete params.q;
      return { type: (type ?? '').toLowerCase(), params, q: Number.isFinite(q) ? q : 0, i };
    })
    .filter((r) => r.type !== '' && r.q > 0);
  return ranges.sort((a, b) => b.q - a.q || a.i - b.i).map(({ i: _i, ...r }) => r);
}

/**
 * The first acceptable answer among `offers` for the Accept header, or undefined (406).
 * An offer is a (possibly multipart) media type with the transfer syntaxes it would carry.
 */
export interface Offer {
  /** The part type, e.g. application/dicom. */
  partType: string;
  /** Also offered as a single part, not only as multipart/related. */
  singlePart?: boolean;
  /** Transfer syntaxes of the parts (all must be acceptable). */
  transferSyntaxes: string[];
  /** A transfer syntax the parts may be said to have besides their own (native pixel data: explicit VR little endian). */
  alsoAs?: string;
}

export interface Negotiated {
  multipart: boolean;
  partType: string;
}

function syntaxOk(offer: Offer, requested: string | undefined): boolean {
  if (requested === undefined || requested === '*') return true;
  return offer.transferSyntaxes.every((ts) => ts === requested || offer.alsoAs === requested);
}

export function negotiate(header: string | undefined, offers: Offer[]): Negotiated | undefined {
  for (const range of parseAccept(header)) {
    for (const offer of offers) {
      if (range.type === '*/*' || range.type === 'multipart/*') return { multipart: true, partType: offer.partType };
      if (range.type === 'multipart/related') {
        const type = (range.params.type ?? offer.partType).toLowerCase();
        if (type === offer.partType && syntaxOk(offer, range.params['transfer-syntax'])) return { multipart: true, partType: offer.partType };
      } else if (offer.singlePart && range.type === offer.partType && syntaxOk(offer, range.params['transfer-syntax'])) {
        return { multipart: false, partType: offer.partType };
      }
    }
  }
  return undefined;
}
