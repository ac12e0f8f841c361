using System.Globalization;

namespace MediaServer.Benchmarks.Load;

/// <summary>The arguments of the <c>load</c> verb (see <see cref="Help"/>).</summary>
internal sealed class LoadOptions
{
    public const string Help = """
        load: publishers, players and HLS viewers against any RTMP/HLS server, measured through /proc/PID.

          --rtmp URL          RTMP app URL publishers and players use (rtmp://127.0.0.1:1935/live)
          --hls TEMPLATE      HLS playlist URL, {key} = stream key (http://127.0.0.1:8080/live/{key}/index.m3u8);
                              a multivariant playlist is followed to its first media playlist. Omit: no HLS clients
          --pid N             server process to measure (CPU from /proc/N/stat, RSS from /proc/N/status)
          --input FILE.flv    media to publish (H.264/HEVC + AAC FLV), looped with continuous timestamps
          --publishers N      streams, one publisher each (1); keys are PREFIX0..PREFIX{N-1}
          --players M         RTMP players, spread over the streams (0)
          --viewers V         HLS viewers, spread over the streams, fetching every new segment as a player (0)
          --ll-viewers V      LL-HLS viewers: blocking playlist reload for the next part, then that part (0)
          --realtime          publish at media speed (default); --fast: as fast as the server accepts;
          --speed X           publish at X times media speed (e.g. 30 for a long run)
          --burst T           at real time or --speed, send the media due in each T of media time together at its
                              end (what a server that merges reads for T sees; e.g. 100ms); default: each frame on time
          --duration T        wall-clock length of the run (60s); the hard bound of every loop
          --media-duration T  stop each publisher after this much media (e.g. 6h); the run ends when all did
          --warmup T          excluded from CPU/throughput figures after all publishers connect (5s)
          --lag / --no-lag    per-stream segment availability probe (on when --hls and publishing at real time)
          --check-segments    download and demux every segment of every stream: A/V start offset, gaps (long run)
          --key-prefix P      stream key prefix (load-<random>-)
          --chunk-size N      outgoing RTMP chunk size (4096)
          --label NAME        name of this run in the table and JSON
          --json FILE         write the report as JSON
        Durations: 500ms, 60s, 2m, 6h (a bare number is seconds).
        """;

    public string RtmpUrl { get; set; } = "rtmp://127.0.0.1:1935/live";

    public string? HlsTemplate { get; set; }

    public int? Pid { get; set; }

    public string? Input { get; set; }

    public int Publishers { get; set; } = 1;

    public int Players { get; set; }

    public int Viewers { get; set; }

    public int LowLatencyViewers { get; set; }

    /// <summary>Media speed multiple; 0 = as fast as accepted.</summary>
    public double Speed { get; set; } = 1;

    /// <summary>With a speed: frames are sent in bursts, at the end of each this-long slice of media time.</summary>
    public TimeSpan? Burst { get; set; }

    public TimeSpan Duration { get; set; } = TimeSpan.FromSeconds(60);

    public TimeSpan? MediaDuration { get; set; }

    public TimeSpan Warmup { get; set; } = TimeSpan.FromSeconds(5);

    public bool? Lag { get; set; }

    public bool CheckSegments { get; set; }

    public string KeyPrefix { get; set; } = $"load-{Random.Shared.Next(0x10000):x4}-";

    public int ChunkSize { get; set; } = 4096;

    public string Label { get; set; } = "load";

    public string? JsonPath { get; set; }

    /// <summary>Whether the lag probes run: asked for, or by default with HLS at real time.</summary>
    public bool LagProbes => HlsTemplate is not null && (Lag ?? Speed == 1);

    public string KeyOf(int stream) => string.Create(CultureInfo.InvariantCulture, $"{KeyPrefix}{stream}");

    /// <summary>Parses the arguments; <see cref="ArgumentException"/> with the reason when they are wrong.</summary>
    public static LoadOptions Parse(string[] args)
    {
        var options = new LoadOptions();
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value.");
            switch (name)
            {
                case "--rtmp": options.RtmpUrl = Value(); break;
                case "--hls": options.HlsTemplate = Value(); break;
                case "--pid": options.Pid = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--input": options.Input = Value(); break;
                case "--publishers": options.Publishers = Count(name, Value(), 1); break;
                case "--players": options.Players = Count(name, Value(), 0); break;
                case "--viewers": options.Viewers = Count(name, Value(), 0); break;
                case "--ll-viewers": options.LowLatencyViewers = Count(name, Value(), 0); break;
                case "--realtime": options.Speed = 1; break;
                case "--fast": options.Speed = 0; break;
                case "--speed": options.Speed = double.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--burst": options.Burst = ParseDuration(Value()); break;
                case "--duration": options.Duration = ParseDuration(Value()); break;
                case "--media-duration": options.MediaDuration = ParseDuration(Value()); break;
                case "--warmup": options.Warmup = ParseDuration(Value()); break;
                case "--lag": options.Lag = true; break;
                case "--no-lag": options.Lag = false; break;
                case "--check-segments": options.CheckSegments = true; break;
                case "--key-prefix": options.KeyPrefix = Value(); break;
                case "--chunk-size": options.ChunkSize = Count(name, Value(), 128); break;
                case "--label": options.Label = Value(); break;
                case "--json": options.JsonPath = Value(); break;
                default: throw new ArgumentException($"Unknown argument '{name}'.");
            }
        }

        if (options.Input is null)
        {
            throw new ArgumentException("--input FILE.flv is required.");
        }

        if (options.Speed < 0 || options.Duration <= TimeSpan.Zero || options.Warmup >= options.Duration)
        {
            throw new ArgumentException("--speed must be ≥ 0 and --warmup shorter than --duration.");
        }

        if (options.Burst is { } burst && (burst <= TimeSpan.Zero || options.Speed == 0))
        {
            throw new ArgumentException("--burst needs a positive length and a publishing speed (--realtime or --speed).");
        }

        if ((options.Viewers > 0 || options.LowLatencyViewers > 0 || options.CheckSegments || options.Lag == true) && options.HlsTemplate is null)
        {
            throw new ArgumentException("HLS viewers, probes and checks need --hls.");
        }

        return options;
    }

    private static int Count(string name, string value, int minimum)
    {
        var count = int.Parse(value, CultureInfo.InvariantCulture);
        return count >= minimum && count <= 100_000 ? count : throw new ArgumentException($"{name} must be between {minimum} and 100000.");
    }

    public static TimeSpan ParseDuration(string text)
    {
        static double Number(string s) => double.Parse(s, CultureInfo.InvariantCulture);
        return text switch
        {
            _ when text.EndsWith("ms", StringComparison.Ordinal) => TimeSpan.FromMilliseconds(Number(text[..^2])),
            _ when text.EndsWith('s') => TimeSpan.FromSeconds(Number(text[..^1])),
            _ when text.EndsWith('m') => TimeSpan.FromMinutes(Number(text[..^1])),
            _ when text.EndsWith('h') => TimeSpan.FromHours(Number(text[..^1])),
            _ => TimeSpan.FromSeconds(Number(text)),
        };
    }
}
