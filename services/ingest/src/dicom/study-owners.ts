import type { Knex } from '@hub/shared/db';

/**
 * Which organization holds each study (table dicom_study_owners, migration 0003). The first
 * organization to send an instance of a study claims it, atomically. Claims never move, so
 * they are cached: a study of 500 instances costs one query.
 */
export interface StudyOwners {
  /** The organization holding the study, after claiming it for `organizationId` if it was free. */
  claim(studyInstanceUid: string, organizationId: number): Promise<number>;
}

export function createStudyOwners(db: Knex, cacheSize = 20_000): StudyOwners {
  const cache = new Map<string, number>();
  const remember = (uid: string, owner: number) => {
    if (cache.size >= cacheSize) cache.delete(cache.keys().next().value!);
    cache.set(uid, owner);
    return owner;
  };
  const select = async (uid: string) => (await db('dicom_study_owners').where({ study_instance_uid: uid }).first('organization_id'))?.organization_id;

  return {
    async claim(uid, organizationId) {
      const cached = cache.get(uid);
      if (cached !== undefined) return cached;
      // The primary key serves both the claim and the look-up.
      const claimed = await db.raw(
        `with claimed as (
           insert into dicom_study_owners (study_instance_uid, organization_id) values (?, ?)
           on conflict (study_instance_uid) do nothing returning organization_id)
         select organization_id from claimed
         union all select organization_id from dicom_study_owners where study_instance_uid = ?
         limit 1`,
        [uid, organizationId, uid],
      );
      // A claim committed by a racing sender after this statement's snapshot: read it now.
      const owner = claimed.rows[0]?.organization_id ?? (await select(uid));
      return remember(uid, Number(owner));
    },
  };
}
