import { ACCEPTED_TRANSFER_SYNTAXES, encodingOf, isAcceptedTransferSyntax, isValidUid, SopClass, STORAGE_SOP_CLASSES, storageSopClass, TransferSyntax } from '.';

describe('the DICOM vocabularies the hub accepts', () => {
  it('lists storage SOP classes with valid, distinct UIDs and their modality', () => {
    const uids = STORAGE_SOP_CLASSES.map((s) => s.uid);
    expect(new Set(uids).size).toBe(uids.length);
    expect(uids.every(isValidUid)).toBe(true);
    expect(Object.values(SopClass).every((uid) => storageSopClass(uid) !== undefined)).toBe(true);
    expect(storageSopClass('1.2.840.10008.5.1.4.1.1.2')).toEqual({ uid: '1.2.840.10008.5.1.4.1.1.2', name: 'CT Image Storage', modality: 'CT' });
    expect(storageSopClass('1.2.840.10008.5.1.4.1.1.88.59')?.modality).toBe('KO');
  });

  it('lists accepted transfer syntaxes with how each is encoded', () => {
    const uids = ACCEPTED_TRANSFER_SYNTAXES.map((t) => t.uid);
    expect(new Set(uids).size).toBe(uids.length);
    expect(uids.every(isValidUid)).toBe(true);
    expect(encodingOf(TransferSyntax.ImplicitVrLittleEndian)).toMatchObject({ explicitVr: false, littleEndian: true, encapsulated: false });
    expect(encodingOf(TransferSyntax.ExplicitVrBigEndian)).toMatchObject({ explicitVr: true, littleEndian: false });
    expect(encodingOf(TransferSyntax.JpegBaseline)).toMatchObject({ encapsulated: true, lossy: true });
    expect(encodingOf(TransferSyntax.JpegLosslessSv1)).toMatchObject({ encapsulated: true, lossy: false });
  });

  it('reads a transfer syntax it does not know as explicit VR little endian with encapsulated pixel data', () => {
    expect(isAcceptedTransferSyntax('1.2.3.4')).toBe(false);
    expect(encodingOf('1.2.3.4')).toMatchObject({ explicitVr: true, littleEndian: true, encapsulated: true });
  });
});
