namespace MediaServer.Core.Codecs.Hevc;

/// <summary>HEVC <c>nal_unit_type</c> (ITU-T H.265 Table 7-1): bits 6..1 of the first NAL header byte.</summary>
public enum HevcNalUnitType : byte
{
    TrailN = 0,
    TrailR = 1,
    TsaN = 2,
    TsaR = 3,
    StsaN = 4,
    StsaR = 5,
    RadlN = 6,
    RadlR = 7,
    RaslN = 8,
    RaslR = 9,
    BlaWLp = 16,
    BlaWRadl = 17,
    BlaNLp = 18,
    IdrWRadl = 19,
    IdrNLp = 20,
    CraNut = 21,
    RsvIrapVcl22 = 22,
    RsvIrapVcl23 = 23,
    VideoParameterSet = 32,
    SequenceParameterSet = 33,
    PictureParameterSet = 34,
    AccessUnitDelimiter = 35,
    EndOfSequence = 36,
    EndOfBitstream = 37,
    FillerData = 38,
    PrefixSei = 39,
    SuffixSei = 40,
}

/// <summary>Helpers on the 2-byte HEVC NAL header (<c>f(1) nal_unit_type u(6) nuh_layer_id u(6) nuh_temporal_id_plus1 u(3)</c>).</summary>
public static class HevcNal
{
    /// <summary>The type of a NAL unit from its first header byte.</summary>
    public static HevcNalUnitType GetType(byte header) => (HevcNalUnitType)((header >> 1) & 0x3F);

    /// <summary>IRAP pictures (BLA, IDR, CRA and the reserved IRAP types): nal_unit_type 16..23.</summary>
    public static bool IsIrap(HevcNalUnitType type) => type is >= HevcNalUnitType.BlaWLp and <= HevcNalUnitType.RsvIrapVcl23;
}
