import { LOINC_SYSTEM, NATIONAL_ID_SYSTEM, UCUM_SYSTEM, mrnSystem } from '@hub/shared/fhir';

export interface TestBundleOptions {
  organizationCode: string;
  mrn: string;
  nationalId?: string;
  /** Bundle.identifier value (idempotency); none by default. */
  bundleId?: string;
  reportId?: string;
  glucose?: number;
}

/**
 * A transaction Bundle as a newer LIS sends it: Patient (MRN + national ID, Chinese and
 * pinyin names), Specimen, DiagnosticReport (LOINC + local code) with two Observations,
 * every reference by urn:uuid fullUrl. For tests and the benchmark.
 */
export function labBundle(o: TestBundleOptions): Record<string, unknown> {
  const identifier = [{ system: mrnSystem(o.organizationCode), value: o.mrn }];
  if (o.nationalId) identifier.push({ system: NATIONAL_ID_SYSTEM, value: o.nationalId });
  const reportId = o.reportId ?? `R-${o.mrn}`;
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    ...(o.bundleId ? { identifier: { system: `urn:hub:organization:${o.organizationCode}:bundle`, value: o.bundleId } } : {}),
    entry: [
      {
        fullUrl: 'urn:uuid:6a3c1f7e-0000-4000-8000-000000000001',
        resource: {
          resourceType: 'Patient',
          identifier,
          name: [
            { text: '陈静', family: '陈', given: ['静'], extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation', valueCode: 'IDE' }] },
            { family: 'Chen', given: ['Jing'] },
          ],
          gender: 'female',
          birthDate: '1975-06-01',
        },
        request: { method: 'POST', url: 'Patient' },
      },
      {
        fullUrl: 'urn:uuid:6a3c1f7e-0000-4000-8000-000000000002',
        resource: { resourceType: 'Specimen', type: { coding: [{ code: 'SER', display: '血清' }] }, collection: { collectedDateTime: '2024-04-02T08:10:00+08:00' } },
        request: { method: 'POST', url: 'Specimen' },
      },
      {
        fullUrl: 'urn:uuid:6a3c1f7e-0000-4000-8000-000000000003',
        resource: {
          resourceType: 'DiagnosticReport',
          identifier: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'FILL' }] }, system: `urn:hub:organization:${o.organizationCode}:filler`, value: reportId }],
          status: 'final',
          category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'LAB' }] }],
          code: { coding: [{ system: LOINC_SYSTEM, code: '24323-8', display: 'Comprehensive metabolic panel' }, { system: `urn:hub:organization:${o.organizationCode}:code`, code: 'BIO', display: '生化全项' }] },
          subject: { reference: 'urn:uuid:6a3c1f7e-0000-4000-8000-000000000001' },
          issued: '2024-04-02T11:00:00+08:00',
          specimen: [{ reference: 'urn:uuid:6a3c1f7e-0000-4000-8000-000000000002' }],
          result: [{ reference: 'urn:uuid:6a3c1f7e-0000-4000-8000-000000000004' }, { reference: 'urn:uuid:6a3c1f7e-0000-4000-8000-000000000005' }],
        },
        request: { method: 'POST', url: 'DiagnosticReport' },
      },
      {
        fullUrl: 'urn:uuid:6a3c1f7e-0000-4000-8000-000000000004',
        resource: {
          resourceType: 'Observation',
          status: 'final',
          code: { coding: [{ system: LOINC_SYSTEM, code: '2345-7', display: 'Glucose' }, { system: `urn:hub:organization:${o.organizationCode}:code`, code: 'GLU', display: '葡萄糖' }] },
          subject: { reference: 'urn:uuid:6a3c1f7e-0000-4000-8000-000000000001' },
          valueQuantity: { value: o.glucose ?? 5.4, unit: 'mmol/L', system: UCUM_SYSTEM, code: 'mmol/L' },
          referenceRange: [{ low: { value: 3.9 }, high: { value: 6.1 } }],
          interpretation: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'N' }] }],
        },
        request: { method: 'POST', url: 'Observation' },
      },
      {
        fullUrl: 'urn:uuid:6a3c1f7e-0000-4000-8000-000000000005',
        resource: {
          resourceType: 'Observation',
          status: 'preliminary',
          code: { coding: [{ system: `urn:hub:organization:${o.organizationCode}:code`, code: 'HBSAG', display: '乙肝表面抗原' }] },
          valueCodeableConcept: { coding: [{ code: 'NEG', display: '阴性' }] },
        },
        request: { method: 'POST', url: 'Observation' },
      },
    ],
  };
}
