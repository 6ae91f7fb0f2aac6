export { linkPatient, livePerson, nameKey, type LinkedPatient, type PatientFacts } from './link';
export { linkPatients, livePersons, patientKey } from './link-many';
