export { operationOutcome, type OperationOutcome } from './outcome';
