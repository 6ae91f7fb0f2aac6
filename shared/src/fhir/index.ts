export { operationOutcome, type OperationOutcome } from './outcome';
export * from './systems';
