import type { Knex } from '@hub/shared/db';
import { PERSON_GROUPS_BY_START, authorizationAmong, consentPurposes, type Authorization, type ConsentFact, type ConsentPurpose } from '@hub/shared/recognition';

/**
 * The patient's authorization for every result a request reads, decided as `authorizationFor`
 * decides one (the rule is authorizationAmong in @hub/shared/recognition), without a round
 * trip per result: for a batch of results known before a read (`authorizationsFor`), and as
 * an SQL condition for searches whose results are only known as the query runs (`readableBy`).
 */

/** Who reads, when and why: one request's side of every authorization it needs. */
export interface ReadRequest {
  askingOrganizationId: number;
  /** The instant decided at; one per request, so its answers agree. */
  on?: Date;
  /** Present when the caller declares an emergency read without the patient's consent. */
  emergencyReason?: string;
  purpose?: ConsentPurpose;
}

/** A result to be read: the person it belongs to and the organization that holds it. */
export interface HeldResult {
  personId: number;
  resultOrganizationId: number;
}

/** The answers for a batch: one per (person, organization holding the result). */
export interface Authorizations {
  of(personId: number, resultOrganizationId: number): Authorization;
}

// Each person's group (up the merge chain to the live person, then down every branch merged
// into it: a consent given before a merge still holds; persons' primary key and
// persons_merged_into_idx), the group's consents (consents_person_idx) with the organizations
// they list (consent_organizations' primary key), and the asker's kind and region (primary
// keys), in one round trip.
const CONSENTS_OF_PERSONS = `
  with recursive ${PERSON_GROUPS_BY_START},
  asker as (
    select o.kind, coalesce(r.region_id, (select id from regions where is_default)) as region_id
    from organizations o left join organization_regions r on r.organization_id = o.id
    where o.id = ?
  )
  select a.kind as "askerKind", a.region_id as "askerRegionId", c.*
  from asker a
  left join lateral (
    select d.start as "personId", hc.id, hc.scope, hc.region_id as "regionId", hc.purpose,
      hc.valid_from as "validFrom", hc.valid_until as "validUntil", hc.revoked_at as "revokedAt",
      coalesce((select array_agg(co.organization_id::integer) from consent_organizations co where co.consent_id = hc.id), '{}') as "organizationIds"
    from down d join consents hc on hc.person_id = d.id
  ) c on true`;

const NOT_A_READER: Authorization = { allowed: false, reason: 'not-a-care-provider', detail: 'only hospitals and imaging centres read patients\' results' };

/**
 * The authorization of each result in one query. The asker's own results need none; another
 * organization's result depends only on its person, so each person is looked up once however
 * many results they have, and no query runs when every result is the asker's own.
 */
export async function authorizationsFor(db: Knex, read: ReadRequest, results: readonly HeldResult[]): Promise<Authorizations> {
  const asker = read.askingOrganizationId;
  // each person once, with one of the other organizations holding their results: the answer is the same for all of them
  const heldBy = new Map(results.filter((r) => r.resultOrganizationId !== asker).map((r) => [r.personId, r.resultOrganizationId]));
  const persons = [...heldBy.keys()];
  const decided = new Map<number, Authorization>();
  if (persons.length > 0) {
    const { rows } = await db.raw(CONSENTS_OF_PERSONS, [persons, asker]);
    const byPerson = new Map<number, ConsentFact[]>();
    for (const row of rows as Array<ConsentFact & { personId: number | null }>) {
      if (row.personId !== null) byPerson.set(row.personId, [...(byPerson.get(row.personId) ?? []), row]);
    }
    const at = read.on ?? new Date();
    for (const person of persons) {
      // an asker that is no organization at all reads nothing, as the authority does not
      const answer = rows[0]
        ? authorizationAmong(byPerson.get(person) ?? [], {
            askingOrganizationId: asker,
            askerKind: rows[0].askerKind,
            askerRegionId: rows[0].askerRegionId,
            resultOrganizationId: heldBy.get(person)!,
            at,
            purpose: read.purpose,
            emergencyReason: read.emergencyReason,
          })
        : NOT_A_READER;
      decided.set(person, answer);
    }
  }
  return {
    of(personId, resultOrganizationId) {
      if (resultOrganizationId === asker) return { allowed: true, basis: 'own-organization' };
      const answer = decided.get(personId);
      if (!answer) throw new Error(`person ${personId} was not among the results authorized`);
      return answer;
    },
  };
}

// A consent for treatment covers an emergency read too (as authorizationAmong holds it).
const purposesCovering = (asked: ConsentPurpose): ConsentPurpose[] => consentPurposes.filter((given) => given === asked || (given === 'treatment' && asked === 'emergency-treatment'));

/**
 * The rows a reader may read, as an SQL condition on a row's organization and person columns
 * (trusted names from code): the asker's own, and those of persons whose group has a consent
 * in force covering the asker and purpose — what `authorizationsFor` allows without an
 * emergency. An emergency reason is not part of it: it opens reads that name a patient or a
 * result, never a search across the region. A row of another organization costs the same few
 * index probes as the batch does per person, so a search using it bounds the rows it examines.
 */
export function readableBy(db: Knex, read: ReadRequest, columns: { organization: string; person: string }): Knex.Raw {
  const at = read.on ?? new Date();
  const asker = read.askingOrganizationId;
  return db.raw(
    `(${columns.organization} = ? or (
      (select kind from organizations where id = ?) <> 'authority' and exists (
        with recursive up(id, merged_into_id, depth) as (
          select id, merged_into_id, 0 from persons where id = ${columns.person}
          union all
          select m.id, m.merged_into_id, u.depth + 1 from persons m join up u on m.id = u.merged_into_id where u.depth < 32
        ),
        down(id, depth) as (
          select id, 0 from up where merged_into_id is null
          union all
          select m.id, d.depth + 1 from persons m join down d on m.merged_into_id = d.id where d.depth < 32
        )
        select 1 from down d join consents hc on hc.person_id = d.id
        where hc.purpose = any (?) and hc.valid_from <= ? and (hc.valid_until is null or hc.valid_until > ?) and (hc.revoked_at is null or hc.revoked_at > ?)
          and case when hc.scope = 'region'
            then hc.region_id = coalesce((select region_id from organization_regions where organization_id = ?), (select id from regions where is_default))
            else exists (select 1 from consent_organizations co where co.consent_id = hc.id and co.organization_id = ?) end
      )
    ))`,
    [asker, asker, purposesCovering(read.purpose ?? 'treatment'), at, at, at, asker, asker],
  );
}

/** The header a caller states an emergency read's reason in. */
export const EMERGENCY_HEADER = 'X-Emergency-Reason';

/**
 * The reason an HTTP caller states for an emergency read: UTF-8, percent-encoded when it is
 * not ASCII (header values are bytes: `encodeURIComponent` in a browser or client), trimmed
 * and cut to 500 characters. An empty value is kept, and refused as no reason.
 */
export function emergencyReasonOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  let text = header;
  if (/%[0-9A-Fa-f]{2}/.test(header)) {
    try {
      text = decodeURIComponent(header);
    } catch {
      // not percent-encoding after all: the value as sent
    }
  }
  return text.trim().slice(0, 500);
}
