/**
 * The person a record belongs to and every record of theirs, as SQL common table expressions to
 * put after a caller's own `start_persons(id)`: up the merge chain to the live person(s), down
 * every person merged into them (a merge keeps the retired person's records and consents), and
 * those persons' patient records. Written once for the check and the stage, which each add
 * their own query to the same round trip. Served by the persons primary key,
 * persons_merged_into_idx and patients_person_idx.
 */
export const PERSON_GROUP_CTES = `
  up(id, merged_into_id, depth) as (
    select p.id, p.merged_into_id, 0 from persons p where p.id in (select id from start_persons)
    union all
    select p.id, p.merged_into_id, u.depth + 1 from persons p join up u on p.id = u.merged_into_id where u.depth < 32
  ),
  live as (select distinct id from up where merged_into_id is null),
  grp(id, depth) as (
    select id, 0 from live
    union all
    select p.id, g.depth + 1 from persons p join grp g on p.merged_into_id = g.id where g.depth < 32
  ),
  records as (select pt.id, pt.organization_id from patients pt where pt.person_id in (select id from grp))`;

/**
 * The same group for several persons at once, keyed by the person asked about: `down(start,
 * id)` holds, for each `start` in the one bound array, every person of its merge group. For
 * reads that answer per person in one round trip (FHIR subjects, consent look-ups).
 */
export const PERSON_GROUPS_BY_START = `
  up(start, id, merged_into_id, depth) as (
    select id, id, merged_into_id, 0 from persons where id = any (?::bigint[])
    union all
    select u.start, m.id, m.merged_into_id, u.depth + 1 from persons m join up u on m.id = u.merged_into_id where u.depth < 32
  ),
  down(start, id, depth) as (
    select start, id, 0 from up where merged_into_id is null
    union all
    select d.start, m.id, d.depth + 1 from persons m join down d on m.merged_into_id = d.id where d.depth < 32
  )`;
