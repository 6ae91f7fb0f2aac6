/**
 * The factors savings are counted with (configuration: HUB_SAVING_PER_REPEAT_CNY,
 * HUB_FILM_PRICE_CNY, HUB_FILM_PLASTIC_GRAMS), with the reference deployment's published
 * arithmetic as their defaults: 500,000 avoided repeats × 280 = 140 million yuan; 5 million
 * films × 16.5 = 82.5 million yuan; 5 million films × 40 g = 200 tonnes of plastic.
 */
export interface SavingsFactors {
  perRepeatCny: number;
  filmCny: number;
  filmPlasticGrams: number;
}

export interface Savings {
  /** avoided repeats at the flat rate per exam, as the reference deployment counts them */
  repeatsCnyFlatRate: number;
  filmCny: number;
  plasticKg: number;
}

// yuan are counted in fen and grams in whole grams, so sums of many small amounts stay exact
const fen = (yuan: number) => Math.round(yuan * 100);

export function savingsOf(counts: { repeatsAvoided: number; filmsAvoided: number }, factors: SavingsFactors): Savings {
  return {
    repeatsCnyFlatRate: (counts.repeatsAvoided * fen(factors.perRepeatCny)) / 100,
    filmCny: (counts.filmsAvoided * fen(factors.filmCny)) / 100,
    plasticKg: (counts.filmsAvoided * factors.filmPlasticGrams) / 1000,
  };
}

/** Recognized over every opportunity that ended: recognized, declined, or missed (null when none did). */
export function recognitionRate(m: { recognized: number; declined: number; missed: number }): number | null {
  const opportunities = m.recognized + m.declined + m.missed;
  return opportunities === 0 ? null : round4(m.recognized / opportunities);
}

/** Of the checks that found a recognizable result, the share no decision followed (null when none found one). */
export function noDecisionShare(m: { checksRecognizable: number; checksDecided: number }): number | null {
  return m.checksRecognizable === 0 ? null : round4((m.checksRecognizable - m.checksDecided) / m.checksRecognizable);
}

export const round4 = (x: number) => Math.round(x * 10_000) / 10_000;
export const round2 = (x: number) => Math.round(x * 100) / 100;
