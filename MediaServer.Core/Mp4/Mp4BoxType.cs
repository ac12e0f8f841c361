namespace MediaServer.Core.Mp4;

/// <summary>
/// ISO base media file format four-character codes (ISO/IEC 14496-12 §4.2, and 14496-14/-15 for the sample entries
/// and their configuration boxes) as the big-endian 32-bit value written on the wire. Brands and handler types are
/// four-character codes too and live here with the boxes.
/// </summary>
internal enum Mp4BoxType : uint
{
    // §4.3 file type, §8.2 movie structure
    Ftyp = 0x66747970,
    Moov = 0x6D6F6F76,
    Mvhd = 0x6D766864,
    Trak = 0x7472616B,
    Tkhd = 0x746B6864,
    Mdia = 0x6D646961,
    Mdhd = 0x6D646864,
    Hdlr = 0x68646C72,
    Minf = 0x6D696E66,
    Vmhd = 0x766D6864,
    Smhd = 0x736D6864,
    Dinf = 0x64696E66,
    Dref = 0x64726566,
    Url = 0x75726C20, // 'url ' (trailing space)
    Stbl = 0x7374626C,
    Stsd = 0x73747364,
    Stts = 0x73747473,
    Stsc = 0x73747363,
    Stsz = 0x7374737A,
    Stco = 0x7374636F,

    // Sample entries and decoder configuration (14496-15 §5.4, §8.4; 14496-14 §5.6)
    Avc1 = 0x61766331,
    AvcC = 0x61766343,
    Hvc1 = 0x68766331,
    HvcC = 0x68766343,
    Mp4a = 0x6D703461,
    Esds = 0x65736473,

    // §8.8 movie fragments
    Mvex = 0x6D766578,
    Trex = 0x74726578,
    Moof = 0x6D6F6F66,
    Mfhd = 0x6D666864,
    Traf = 0x74726166,
    Tfhd = 0x74666864,
    Tfdt = 0x74666474,
    Trun = 0x7472756E,
    Mdat = 0x6D646174,

    // Brands (§4.3, Annex E) and handler types (§8.4.3)
    BrandIso6 = 0x69736F36,
    BrandMp41 = 0x6D703431,
    HandlerVideo = 0x76696465, // 'vide'
    HandlerSound = 0x736F756E, // 'soun'
}
