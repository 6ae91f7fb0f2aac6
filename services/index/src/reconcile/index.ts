export { collectOrphanObjects, scheduleOrphanSweeps, type OrphanReport, type OrphanSweep } from './orphans';
