import { TransferSyntax } from '@hub/shared/dicom';
import { chooseTransferSyntax } from './transfer-syntax';

describe('the transfer syntax accepted for a presentation context', () => {
  it("takes the sender's first choice among those the hub stores, so compressed data stays as it was made", () => {
    expect(chooseTransferSyntax([TransferSyntax.JpegLosslessSv1, TransferSyntax.ExplicitVrLittleEndian])).toBe(TransferSyntax.JpegLosslessSv1);
    expect(chooseTransferSyntax(['1.2.3.4.5', TransferSyntax.ImplicitVrLittleEndian, TransferSyntax.ExplicitVrLittleEndian])).toBe(TransferSyntax.ImplicitVrLittleEndian);
  });

  it('takes big endian only when nothing else is offered, and nothing unknown', () => {
    expect(chooseTransferSyntax([TransferSyntax.ExplicitVrBigEndian, TransferSyntax.ExplicitVrLittleEndian])).toBe(TransferSyntax.ExplicitVrLittleEndian);
    expect(chooseTransferSyntax([TransferSyntax.ExplicitVrBigEndian])).toBe(TransferSyntax.ExplicitVrBigEndian);
    expect(chooseTransferSyntax(['1.2.3.4.5'])).toBeUndefined();
  });

  it('answers verification in little endian', () => {
    expect(chooseTransferSyntax([TransferSyntax.ExplicitVrBigEndian, TransferSyntax.ImplicitVrLittleEndian], true)).toBe(TransferSyntax.ImplicitVrLittleEndian);
  });
});
