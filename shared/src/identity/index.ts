/** Patient identity numbers: the China resident ID (validation, keyed hash, masked form). */
export {
  validateNationalId,
  nationalIdHash,
  maskNationalId,
  birthDateFromNationalId,
  sexFromNationalId,
  type NationalIdOptions,
  type Sex,
} from './national-id';
