/**
 * `@hub/shared/dicom/testing`: the test instance builder (../testing.ts) for other packages'
 * tests, which can only reach a concern's index files through the package exports.
 */
export * from '../testing';
