#!/usr/bin/env python3
"""Writes the seed files of every fuzz target into Corpus/<target>/seed-*.

The seeds are the golden vectors of MediaServer.Tests (hex copied from the tests named in each comment),
framed as each target's input format (see the target's doc comment). Findings are added beside them as
finding-* files by hand, minimized. Run once; re-running rewrites only seed-* files.
"""
import hashlib
import hmac
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "Corpus")


def h(text):
    return bytes.fromhex(text.replace(" ", "").replace("|", ""))


def write(target, name, data):
    folder = os.path.join(ROOT, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "seed-" + name), "wb") as f:
        f.write(data)


# ---- handshake (HandshakeTests): C0 | C1 | C2, simple and digest forms
TAIL = h("F0EEC24A8068BEE82E00D0D1029E7E576EEC5D2D29806FAB93B8E636CFEB31AE")
PLAYER_KEY = b"Genuine Adobe Flash Player 001" + TAIL
SERVER_KEY = b"Genuine Adobe Flash Media Server 001" + TAIL


def digest_packet(key_text, schema_base, version=b"\x09\x00\x7c\x02"):
    body = bytearray(struct.pack(">I", 1000) + version + bytes((i * 7 + 3) & 0xFF for i in range(1528)))
    offset = (sum(body[schema_base:schema_base + 4]) % 728) + schema_base + 4
    mac = hmac.new(key_text, bytes(body[:offset]) + bytes(body[offset + 32:]), hashlib.sha256).digest()
    body[offset:offset + 32] = mac
    return bytes(body)


simple_c1 = struct.pack(">II", 0, 0) + bytes(i & 0xFF for i in range(1528))
write("handshake", "simple-c0c1c2", b"\x03" + simple_c1 + simple_c1)
write("handshake", "simple-c0c1", b"\x03" + simple_c1)
write("handshake", "digest-schema1", b"\x03" + digest_packet(PLAYER_KEY[:30], 772) + simple_c1)
write("handshake", "digest-schema0", b"\x03" + digest_packet(PLAYER_KEY[:30], 8))
write("handshake", "server-s0s1-digest", b"\x03" + digest_packet(SERVER_KEY[:36], 772, b"\x0d\x0e\x0a\x0d"))
write("handshake", "rtmpe-version", b"\x06" + simple_c1[:64])
write("handshake", "http-request", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")


# ---- amf0 (Amf0Tests golden vectors, and commands as ffmpeg/OBS send them)
def amf_str(s):
    b = s.encode()
    return b"\x02" + struct.pack(">H", len(b)) + b


def amf_num(n):
    return b"\x00" + struct.pack(">d", n)


def amf_obj(pairs, marker=b"\x03"):
    out = bytearray(marker)
    for k, v in pairs:
        kb = k.encode()
        out += struct.pack(">H", len(kb)) + kb + v
    return bytes(out) + b"\x00\x00\x09"


golden = {
    "number": "003FF0000000000000", "boolean": "0101", "string": "0200046C697665", "null": "05",
    "undefined": "06", "unsupported": "0D",
    "object": "03000361707002" + "00046C697665" + "000009",
    "ecma-array": "0800000001" + "0005776964746800" + "4094000000000000" + "000009",
    "strict-array": "0A00000002" + "004000000000000000" + "05",
    "date": "0B42745F680B000000" + "0000", "xml": "0F000000043C612F3E",
    "typed-object": "10000143" + "0001780100" + "000009",
    "long-string": "0C00000003616263",
    "reference": "0A00000002" + "03000161003FF0000000000000000009" + "070001",
    "ecma-no-end": "0800000001" + "000177" + "004094000000000000",
    "amf3-switch": "11" + "0401",
}
for name, hexa in golden.items():
    write("amf0", name, h(hexa))

connect = amf_str("connect") + amf_num(1) + amf_obj([
    ("app", amf_str("live")), ("type", amf_str("nonprivate")), ("flashVer", amf_str("FMLE/3.0 (compatible; FMSc/1.0)")),
    ("tcUrl", amf_str("rtmp://localhost:1935/live")), ("fpad", b"\x01\x00"), ("capabilities", amf_num(15)),
    ("audioCodecs", amf_num(4071)), ("videoCodecs", amf_num(252)), ("videoFunction", amf_num(1)),
    ("fourCcList", b"\x0A\x00\x00\x00\x02" + amf_str("hvc1") + amf_str("av01")),
])
write("amf0", "connect", connect)
write("amf0", "connect-amf3", b"\x00" + connect)
write("amf0", "releaseStream", amf_str("releaseStream") + amf_num(2) + b"\x05" + amf_str("key?token=abc"))
write("amf0", "createStream", amf_str("createStream") + amf_num(4) + b"\x05")
write("amf0", "publish", amf_str("publish") + amf_num(5) + b"\x05" + amf_str("key") + amf_str("live"))
write("amf0", "play", amf_str("play") + amf_num(4) + b"\x05" + amf_str("stream") + amf_num(-2000) + amf_num(-1) + b"\x01\x01")
write("amf0", "onStatus", amf_str("onStatus") + b"\x05" + b"\x05" + amf_obj([("level", amf_str("status")), ("code", amf_str("NetStream.Publish.Start"))]))
on_metadata = amf_str("@setDataFrame") + amf_str("onMetaData") + amf_obj([
    ("duration", amf_num(0)), ("width", amf_num(1280)), ("height", amf_num(720)), ("videocodecid", amf_num(7)),
    ("encoder", amf_str("Lavf59.27.100")), ("stereo", b"\x01\x01")], marker=b"\x08\x00\x00\x00\x06")
write("amf0", "setDataFrame", on_metadata)


# ---- chunk (ChunkStreamTests, ChunkHeaderTests): byte 0 = read size - 1, then chunks
def basic(fmt, csid):
    if csid < 64:
        return bytes([(fmt << 6) | csid])
    if csid < 320:
        return bytes([fmt << 6, csid - 64])
    return bytes([(fmt << 6) | 1]) + struct.pack("<H", csid - 64)


def message(csid, type_id, payload, timestamp=0, stream_id=0, chunk_size=128):
    ts = min(timestamp, 0xFFFFFF)
    out = bytearray(basic(0, csid) + struct.pack(">I", ts)[1:] + struct.pack(">I", len(payload))[1:] + bytes([type_id]) + struct.pack("<I", stream_id))
    ext = struct.pack(">I", timestamp) if ts == 0xFFFFFF else b""
    out += ext
    for i in range(0, max(len(payload), 1), chunk_size):
        if i:
            out += basic(3, csid) + ext
        out += payload[i:i + chunk_size]
    return bytes(out)


set_chunk = message(2, 1, struct.pack(">I", 4096))
window = message(2, 5, struct.pack(">I", 2500000))
peer = message(2, 6, struct.pack(">IB", 2500000, 2))
ping = message(2, 4, struct.pack(">HI", 6, 1234))
buffer_length = message(2, 4, struct.pack(">HII", 3, 1, 3000))
ack = message(2, 3, struct.pack(">I", 1000))
avc_seq = h("17 00 000000") + h("0164000dffe100196764000dacd94141fb011000000300100000030320f142996001000668ebe3cb22c0fdf8f800")
aac_seq = h("AF 00 1210")
video = h("17 01 000050 00000002 6588") + bytes(300)
for read_size in (1, 7, 128, 256):
    write("chunk", f"publish-read{read_size}",
          bytes([read_size - 1]) + set_chunk + window + message(3, 20, connect, chunk_size=4096)
          + message(3, 20, amf_str("publish") + amf_num(5) + b"\x05" + amf_str("key"), stream_id=1, chunk_size=4096)
          + message(6, 9, avc_seq, stream_id=1, chunk_size=4096) + message(4, 8, aac_seq, stream_id=1, chunk_size=4096)
          + message(6, 9, video, timestamp=40, stream_id=1, chunk_size=4096))
write("chunk", "connect-128", b"\x0f" + message(3, 20, connect))
write("chunk", "control", b"\x3f" + window + peer + ping + buffer_length + ack)
write("chunk", "extended-timestamp", b"\xff" + h("06FFFFFF0000C80901000000" + "01000000") + bytes(128) + h("C6 01000000") + bytes(72))
# fmt 1, fmt 2 and fmt 3 headers after a fmt 0: deltas and repeated lengths.
write("chunk", "fmt123", b"\x7f" + message(4, 8, b"\xaf\x01\x21\x00", timestamp=1000, stream_id=1)
      + h("44 000017 000004 08") + b"\xaf\x01\x21\x01" + h("84 000017") + b"\xaf\x01\x21\x02" + h("C4") + b"\xaf\x01\x21\x03")
# Abort of a message in progress (§5.4.2), then a new message on the aborted chunk stream.
write("chunk", "abort", b"\x7f" + h("06 000000 000190 09 01000000") + bytes(128) + message(2, 2, struct.pack(">I", 6))
      + message(6, 9, h("27 01 000000 00000001 41"), stream_id=1))
write("chunk", "csid-2byte-3byte", b"\x7f" + message(100, 8, aac_seq) + message(60000, 8, aac_seq) + message(319, 8, aac_seq))
write("chunk", "set-chunk-size-1", b"\x7f" + message(2, 1, struct.pack(">I", 1)) + bytes([0x04]) + h("000000 000003 08 01000000")[:] + b"\xaf" + b"\xc4\x01" + b"\xc4\x21")
write("chunk", "bad-chunk-size", b"\x7f" + message(2, 1, struct.pack(">I", 0x80000000)))
write("chunk", "no-previous-header", b"\x7f" + h("C5"))
write("chunk", "huge-length", b"\x7f" + h("05 000000 FFFFFF 09 01000000") + bytes(64))


# ---- flv (FlvGoldenVectors): byte 0 = 0 video, 1 audio, 2 script, 3 FLV file; then the body or file
def ascii_hex(s):
    return s.encode().hex()


HVC1, AVC1, AV01, VP09 = (ascii_hex(s) for s in ("hvc1", "avc1", "av01", "vp09"))
OPUS, FLAC, AC3, EAC3, MP4A, MP3 = (ascii_hex(s) for s in ("Opus", "fLaC", "ac-3", "ec-3", "mp4a", ".mp3"))
AVC_RECORD = "01 64 00 1F FF E1"
ON_METADATA = "02 000A " + ascii_hex("onMetaData") + " 08 00000000 000009"
flv_vectors = [
    ("avc-seq", 0, "17 | 00 | 000000 | " + AVC_RECORD), ("avc-key", 0, "17 | 01 | 000050 | 00000002 6588"),
    ("avc-inter", 0, "27 | 01 | FFFFD8 | 00000002 419A"), ("avc-disposable", 0, "37 | 01 | 7FFFFF | 01"),
    ("avc-eos", 0, "17 | 02 | 000000"), ("legacy-hevc-seq", 0, "1C | 00 | 000000 | 01 01 60"),
    ("legacy-hevc-nalu", 0, "2C | 01 | 000021 | 00000003 020100"),
    ("hevc-seqstart", 0, "90 | " + HVC1 + " | 0101600000009000000000003cf000fcfdf8f800000f01a000010004 40010c01"),
    ("hevc-coded", 0, "91 | " + HVC1 + " | 000021 | 00000003 260101"), ("hevc-codedx", 0, "A3 | " + HVC1 + " | 00000003 020100"),
    ("hevc-seqend", 0, "92 | " + HVC1), ("avc1-coded", 0, "A1 | " + AVC1 + " | FFFFF0 | 00000001 41"),
    ("avc1-seqstart", 0, "90 | " + AVC1 + " | 0164000dffe100196764000dacd94141fb011000000300100000030320f142996001000668ebe3cb22c0fdf8f800"),
    ("av1-seqstart", 0, "90 | " + AV01 + " | 81 00 0C 00"), ("av1-coded", 0, "A1 | " + AV01 + " | 12 00 32"),
    ("vp9-seqstart", 0, "90 | " + VP09 + " | 01 00 00 00"), ("vp9-seqend", 0, "A2 | " + VP09),
    ("modex", 0, "97 | 02 | 000102 | 01 | " + HVC1 + " | 000010 | AABB"),
    ("modex-ui16", 0, "A7 | FF | 0000 | 55 | 03 | " + HVC1 + " | CC"),
    ("multitrack-one", 0, "96 | 01 | " + HVC1 + " | 00 | 000008 | 1122"),
    ("multitrack-many", 0, "96 | 13 | " + AV01 + " | 01 000002 AAAA | 00 000002 BBBB"),
    ("multitrack-many-codecs", 0, "96 | 20 | " + VP09 + " 01 000001 11 | " + HVC1 + " 00 000002 2233"),
    ("aac-asc", 1, "AF | 00 | 1210"), ("aac-raw", 1, "AF | 01 | 211B 8000"), ("aac-bits", 1, "A2 | 01 | 21"),
    ("mp3", 1, "2F | FFFB 9064"), ("mp3-8k", 1, "E2 | FFF3 1064"),
    ("opus-seq", 1, "90 | " + OPUS + " | " + ascii_hex("OpusHead") + " 01 02"), ("opus-coded", 1, "91 | " + OPUS + " | FC FF FE"),
    ("flac-seq", 1, "90 | " + FLAC + " | 1000 1000"), ("ac3", 1, "91 | " + AC3 + " | 0B77 0102"),
    ("eac3", 1, "91 | " + EAC3 + " | 0B77 0304"), ("mp4a-seq", 1, "90 | " + MP4A + " | 1190"), ("mp4a-end", 1, "92 | " + MP4A),
    ("mp3-fourcc", 1, "91 | " + MP3 + " | FFFB"), ("audio-modex", 1, "97 | 00 | 05 | 01 | " + OPUS + " | FC"),
    ("audio-multitrack", 1, "95 | 01 | " + OPUS + " | 00 | FC01"),
    ("script-setdataframe", 2, "02 000D " + ascii_hex("@setDataFrame") + " | " + ON_METADATA),
    ("script-onmetadata", 2, ON_METADATA),
]
for name, mode, body in flv_vectors:
    write("flv", name, bytes([mode]) + h(body))


def flv_tag(type_id, ts, body):
    head = bytes([type_id]) + struct.pack(">I", len(body))[1:] + struct.pack(">I", ts)[1:] + bytes([ts >> 24]) + b"\x00\x00\x00"
    return head + body + struct.pack(">I", 11 + len(body))


flv_file = (b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00" + flv_tag(18, 0, h(ON_METADATA))
            + flv_tag(9, 0, h("17 00 000000") + h("0164000dffe100196764000dacd94141fb011000000300100000030320f142996001000668ebe3cb22c0fdf8f800"))
            + flv_tag(8, 0, h("AF 00 1210")) + flv_tag(9, 40, h("17 01 000050 00000002 6588")) + flv_tag(8, 23, h("AF 01 211B 8000")))
write("flv", "file", b"\x03" + flv_file)
write("flv", "file-split", b"\x1f" + flv_file)

# ---- chunk: an aggregate message (type 22) of FLV-tag sub-messages, as relays send (RtmpAggregateTests)
aggregate = flv_tag(8, 5000, h("AF 00 1210")) + flv_tag(9, 5000, h("17 01 000050 00000002 6588")) + flv_tag(8, 5023, h("AF 01 211B 8000"))
write("chunk", "aggregate", b"\x7f" + message(4, 22, aggregate, timestamp=1000, stream_id=1))

# ---- avc (AvcDecoderConfigurationRecordTests, MediaTestData.X264HighAvcC, SequenceParameterSetTests)
X264 = "0164000dffe100196764000dacd94141fb011000000300100000030320f142996001000668ebe3cb22c0fdf8f800"
write("avc", "x264-high", h(X264))
write("avc", "x264-high-sps", h("6764000dacd94141fb011000000300100000030320f1429960"))
for i, bad in enumerate(["0264000dffe1000167", "0164000dfee100016700", "0164000dffe1001967", "0164000dffe1000000",
                         "0164000dffe1000167", "0164000dffe100016741", "0164000dffe1000167010005"]):
    write("avc", f"invalid-{i}", h(bad))
write("avc", "baseline-no-ext", h("0142c01effe1000b6742c01e95a0501ed0802001000468ce3c80"))

# ---- hevc (HevcDecoderConfigurationRecordTests)
GOLDEN = "0101600000009000000000003cf000fcfdf8f800000f01a000010004" + "40010c01"
write("hevc", "golden", h(GOLDEN))
for i, bad in enumerate(["0001600000009000000000003cf000fcfdf8f800000f00", "0101600000009000000000003cf000fcfdf8f800000e00",
                         "0101600000009000000000003cf000fcfdf8f800000f11", "0101600000009000000000003cf000fcfdf8f800000f01a00041",
                         "0101600000009000000000003cf000fcfdf8f800000f01a000010005" + "40010c01",
                         "0101600000009000000000003cf000fcfdf8f800000f01a000010000", "0101600000009000000000003cf000fcfdf8f800000f01a000"]):
    write("hevc", f"invalid-{i}", h(bad))
write("hevc", "vps-sps-pps", h("0101600000009000000000003cf000fcfdf8f800000f03"
                               "a0000100044001 0c01" "a1000100054201010160" "a2000100034401c1"))

# ---- aac (AudioSpecificConfigTests, AdtsHeaderTests)
for name, hexa in [("lc-44k-stereo", "1210"), ("lc-48k-stereo-ext", "119056e500"), ("lc-8k-mono", "1588"), ("main-16k-6ch", "0c30"),
                   ("he-aac-sbr", "2b118800"), ("escape-object-type", "f85e01770020"), ("truncated", "12"),
                   ("object-type-0", "0010"), ("reserved-index", "16a0"), ("explicit-frequency-0", "1780000000"),
                   ("adts-header", "fff150802e7ffc")]:
    write("aac", name, h(hexa))

# ---- hls-query (HlsEndpointsTests, MediaPlaylistWriterTests): UTF-8 "path?query"
for i, text in enumerate(["5f3a9c0d12ab-42.ts", "5f3a9c0d12ab-42.ts?token=eyJhbGciOiJIUzI1NiJ9.e30.sig",
                          "stream.m3u8?token=abc%20def&_HLS_msn=3&_HLS_part=1", "index.m3u8?token=a%0Ab&token=c",
                          "-1", "a-b-99999999999999999999", "abc-+1", "x-0001", "key?", "key?token=%zz%41", "?token=\u00e9\u2028"]):
    write("hls-query", f"{i:02d}", text.encode())
