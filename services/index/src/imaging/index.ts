export { indexDicomBatch } from './batch';
export { indexDicom } from './instance';
export { imagingSummaryOf, type ImagingSummary } from './summary';
