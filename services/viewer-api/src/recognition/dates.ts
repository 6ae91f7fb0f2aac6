/** Calendar days as the rules count them: defined once, with the rules, in @hub/shared/recognition. */
export { addDays, daysBetween, isCalendarDate, isTimeZone, localDate, startOfDay } from '@hub/shared/recognition';
