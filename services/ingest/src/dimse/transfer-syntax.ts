import { isAcceptedTransferSyntax, TransferSyntax } from '@hub/shared/dicom';

/**
 * The transfer syntax to accept in a presentation context: the sender's own first choice
 * among those the hub stores (it lists the one its data is in first; taking it means the
 * data arrives as it was made, compressed or not). Big endian only when nothing else is
 * offered. Verification needs no more than implicit VR little endian.
 */
export function chooseTransferSyntax(proposed: readonly string[], verification = false): string | undefined {
  const offered = proposed.map((ts) => ts.trim());
  if (verification) return offered.find((ts) => ts === TransferSyntax.ImplicitVrLittleEndian || ts === TransferSyntax.ExplicitVrLittleEndian) ?? offered.find(isAcceptedTransferSyntax);
  return offered.find((ts) => isAcceptedTransferSyntax(ts) && ts !== TransferSyntax.ExplicitVrBigEndian) ?? offered.find(isAcceptedTransferSyntax);
}
