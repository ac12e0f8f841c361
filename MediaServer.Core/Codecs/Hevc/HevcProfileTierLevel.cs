namespace MediaServer.Core.Codecs.Hevc;

/// <summary>
/// The general part of an HEVC <c>profile_tier_level</c> (ITU-T H.265 §7.3.3, profilePresentFlag 1), as the VPS and
/// SPS carry it and the HEVCDecoderConfigurationRecord copies it.
/// </summary>
/// <remarks>
/// <code>
/// u2 general_profile_space  u1 general_tier_flag  u5 general_profile_idc
/// u32 general_profile_compatibility_flag[32]
/// u48 progressive, interlaced, non_packed, frame_only, 43 constraint/reserved bits, inbld/reserved
/// u8 general_level_idc
/// { u1 sub_layer_profile_present  u1 sub_layer_level_present } × maxNumSubLayersMinus1
/// [maxNumSubLayersMinus1 > 0: u2 reserved_zero_2bits × (8 − maxNumSubLayersMinus1)]
/// { [profile present: 88 bits] [level present: u8 sub_layer_level_idc] } × maxNumSubLayersMinus1
/// </code>
/// The 48 constraint bits are kept as they are (the record copies them whole); the sub-layer parts are skipped.
/// </remarks>
public readonly record struct HevcProfileTierLevel(
    byte ProfileSpace,
    bool TierFlag,
    byte ProfileIdc,
    uint ProfileCompatibilityFlags,
    ulong ConstraintIndicatorFlags,
    byte LevelIdc)
{
    /// <summary>Reads <c>profile_tier_level(1, maxNumSubLayersMinus1)</c>, sub-layer parts included.</summary>
    internal static HevcProfileTierLevel Read(ref RbspBitReader reader, int maxNumSubLayersMinus1)
    {
        var space = (byte)reader.ReadBits(2);
        var tier = reader.ReadFlag();
        var profile = (byte)reader.ReadBits(5);
        var compatibility = reader.ReadBits(32);
        var constraints = ((ulong)reader.ReadBits(16) << 32) | reader.ReadBits(32);
        var level = (byte)reader.ReadBits(8);
        Span<bool> profilePresent = stackalloc bool[8];
        Span<bool> levelPresent = stackalloc bool[8];
        for (var i = 0; i < maxNumSubLayersMinus1; i++)
        {
            profilePresent[i] = reader.ReadFlag();
            levelPresent[i] = reader.ReadFlag();
        }

        if (maxNumSubLayersMinus1 > 0)
        {
            reader.Skip(2 * (8 - maxNumSubLayersMinus1)); // reserved_zero_2bits
        }

        for (var i = 0; i < maxNumSubLayersMinus1; i++)
        {
            reader.Skip((profilePresent[i] ? 88 : 0) + (levelPresent[i] ? 8 : 0));
        }

        return new HevcProfileTierLevel(space, tier, profile, compatibility, constraints, level);
    }
}
