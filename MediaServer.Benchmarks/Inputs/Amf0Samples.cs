using MediaServer.Core.Amf;
using MediaServer.Rtmp.Messages;

namespace MediaServer.Benchmarks.Inputs;

/// <summary>
/// AMF0 bodies as OBS Studio (30.x, obs-outputs' librtmp and flv-mux.c) sends them when it starts publishing.
/// </summary>
public static class Amf0Samples
{
    /// <summary>
    /// <c>connect(1, {app, type, flashVer, swfUrl, tcUrl, fourCcList})</c>: the command object of an FMLE-style
    /// publisher with the Enhanced RTMP codec list.
    /// </summary>
    public static byte[] ObsConnect() => RtmpCommand.Encode("connect", 1, new AmfObject
    {
        { "app", "live" },
        { "type", "nonprivate" },
        { "flashVer", "FMLE/3.0 (compatible; FMSc/1.0)" },
        { "swfUrl", "rtmp://live.example.com/live" },
        { "tcUrl", "rtmp://live.example.com/live" },
        { "fourCcList", new object?[] { "av01", "vp09", "hvc1" } },
    });

    /// <summary>
    /// <c>@setDataFrame("onMetaData", ECMA array)</c> with the 20 properties OBS writes for 1080p30 H.264 + AAC.
    /// </summary>
    public static byte[] ObsSetDataFrame() => RtmpCommand.EncodeData("@setDataFrame", "onMetaData", new AmfEcmaArray
    {
        { "duration", 0d },
        { "fileSize", 0d },
        { "width", 1920d },
        { "height", 1080d },
        { "videocodecid", 7d },
        { "videodatarate", 6000d },
        { "framerate", 30d },
        { "audiocodecid", 10d },
        { "audiodatarate", 128d },
        { "audiosamplerate", 48000d },
        { "audiosamplesize", 16d },
        { "audiochannels", 2d },
        { "stereo", true },
        { "2.1", false },
        { "3.1", false },
        { "4.0", false },
        { "4.1", false },
        { "5.1", false },
        { "7.1", false },
        { "encoder", "obs-output module (libobs version 30.2.3)" },
    });
}
