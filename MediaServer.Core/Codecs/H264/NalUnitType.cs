namespace MediaServer.Core.Codecs.H264;

/// <summary>H.264 <c>nal_unit_type</c> (ITU-T H.264 Table 7-1): the low 5 bits of the NAL header byte.</summary>
public enum NalUnitType : byte
{
    Unspecified = 0,
    NonIdrSlice = 1,
    SliceDataPartitionA = 2,
    SliceDataPartitionB = 3,
    SliceDataPartitionC = 4,
    IdrSlice = 5,
    Sei = 6,
    SequenceParameterSet = 7,
    PictureParameterSet = 8,
    AccessUnitDelimiter = 9,
    EndOfSequence = 10,
    EndOfStream = 11,
    FillerData = 12,
    SequenceParameterSetExtension = 13,
    PrefixNalUnit = 14,
    SubsetSequenceParameterSet = 15,
    DepthParameterSet = 16,
    AuxiliarySlice = 19,
    SliceExtension = 20,
    SliceExtensionDepth = 21,
}

/// <summary>Helpers on the H.264 NAL header byte (<c>forbidden_zero_bit f(1), nal_ref_idc u(2), nal_unit_type u(5)</c>).</summary>
public static class H264Nal
{
    /// <summary>The type of a NAL unit from its first (header) byte.</summary>
    public static NalUnitType GetType(byte header) => (NalUnitType)(header & 0x1F);
}
