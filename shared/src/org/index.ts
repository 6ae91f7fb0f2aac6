import type { Knex } from 'knex';
import { badInput, conflict, notFound } from '../errors';

export const organizationKinds = ['hospital', 'imaging_centre', 'authority'] as const;
export type OrganizationKind = (typeof organizationKinds)[number];

export interface Organization {
  id: number;
  code: string;
  name: string;
  nameEn: string | null;
  kind: OrganizationKind;
  grade: string | null;
  stoppedPrintingFilmOn: string | null;
  active: boolean;
}

export interface NewOrganization {
  code: string;
  name: string;
  nameEn?: string;
  kind: OrganizationKind;
  grade?: string;
  stoppedPrintingFilmOn?: string;
}

const columns = {
  id: 'id',
  code: 'code',
  name: 'name',
  nameEn: 'name_en',
  kind: 'kind',
  grade: 'grade',
  stoppedPrintingFilmOn: 'stopped_printing_film_on',
  active: 'active',
};

const codePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;

export async function createOrganization(db: Knex, org: NewOrganization): Promise<Organization> {
  if (!codePattern.test(org.code)) throw badInput(`organization code "${org.code}" must be 1-32 letters, digits, '_', '.' or '-'`, { location: 'code', code: 'organization-code' });
  if (!org.name.trim()) throw badInput('organization name is required', { location: 'name' });
  if (!organizationKinds.includes(org.kind)) throw badInput(`organization kind must be one of ${organizationKinds.join(', ')}`, { location: 'kind' });
  if (org.stoppedPrintingFilmOn && !/^\d{4}-\d{2}-\d{2}$/.test(org.stoppedPrintingFilmOn)) {
    throw badInput('the date film printing stopped must be YYYY-MM-DD', { location: 'stoppedPrintingFilmOn' });
  }
  const [row] = await db('organizations')
    .insert({
      code: org.code,
      name: org.name.trim(),
      name_en: org.nameEn ?? null,
      kind: org.kind,
      grade: org.grade ?? null,
      stopped_printing_film_on: org.stoppedPrintingFilmOn ?? null,
    })
    .onConflict('code')
    .ignore()
    .returning(Object.values(columns));
  if (!row) throw conflict(`an organization with code "${org.code}" already exists`, { location: 'code', code: 'organization-exists' });
  return (await findOrganization(db, org.code))!;
}

export async function findOrganization(db: Knex, code: string): Promise<Organization | null> {
  const row = await db('organizations').where({ code }).first(columns);
  return (row as Organization | undefined) ?? null;
}

export async function getOrganization(db: Knex, code: string): Promise<Organization> {
  const org = await findOrganization(db, code);
  if (!org) throw notFound(`no organization with code "${code}"`, { location: 'code', code: 'unknown-organization' });
  return org;
}

export async function listOrganizations(db: Knex): Promise<Organization[]> {
  return (await db('organizations').orderBy('code').select(columns)) as Organization[];
}
