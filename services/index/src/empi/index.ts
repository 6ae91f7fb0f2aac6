export { linkPatient, livePerson, nameKey, type LinkedPatient, type PatientFacts } from './link';
