#!/usr/bin/env bash
# Runs the same load against MediaServer and nginx-rtmp (libnginx-mod-rtmp, one worker, HLS on, 2 s fragments,
# output on tmpfs) in one run, and prints our figures, nginx's and the ratios.
#
#   MediaServer.Benchmarks/compare-nginx.sh                 # all scenarios
#   DURATION=30s PUBLISHERS=10 VIEWERS=200 MediaServer.Benchmarks/compare-nginx.sh
#
# Scenarios (each against a freshly started server, ours first, then nginx):
#   realtime  PUBLISHERS (20) publishers at media speed, HLS segment availability probes on
#   fast      FAST_PUBLISHERS (4) publishers as fast as each server accepts
#   viewers   1 publisher + VIEWERS HLS viewers (skipped when VIEWERS=0, the default)
#   latency   camera-to-screen in hls.js (the latency verb, a clock in the picture): ours LL-HLS over TS and fMP4 parts
#             for each part target in LL_PARTS ("00:00:00.2 00:00:00.5"), ours classic (parts off), nginx classic
#             (not in the default set: it needs node, chromium and npm ci --prefix MediaServer.Tests/Clients)
# Needs: the .NET SDK, ffmpeg, jq, nginx with /usr/share/nginx/modules/ngx_rtmp_module.so. Loopback only.
# Environment: DURATION (60s), FAST_DURATION (30s), WARMUP (15s, real-time scenarios), INPUT (an FLV to use instead of generating the reference),
# SCENARIOS ("realtime fast", plus "viewers" when VIEWERS > 0; add "latency"), LATENCY_SECONDS (30), LATENCY_HLS_CONFIG (an hls.js config to measure too, e.g. '{"maxLiveSyncPlaybackRate":1.5}'), REALTIME_ARGS (more load arguments for the realtime
# scenario, e.g. "--burst 100ms"), OURS_ARGS (more arguments for our server, e.g. "--MediaServer:Hls:Fmp4OnDemand=false"), NO_BUILD=1 (use the existing Release builds), KEEP=1 (leave the temp folder with the JSON reports).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-60s}
FAST_DURATION=${FAST_DURATION:-30s}
WARMUP=${WARMUP:-15s} # excluded from the real-time figures: connections, JIT tiering
PUBLISHERS=${PUBLISHERS:-20}
FAST_PUBLISHERS=${FAST_PUBLISHERS:-4}
VIEWERS=${VIEWERS:-0}
SCENARIOS=${SCENARIOS:-realtime fast$( [[ $VIEWERS -gt 0 ]] && echo " viewers" || true)}
NGINX=${NGINX:-/usr/sbin/nginx}
RTMP_MODULE=${RTMP_MODULE:-/usr/share/nginx/modules/ngx_rtmp_module.so}

work=$(mktemp -d "${TMPDIR:-/tmp}/compare-nginx.XXXXXX")
shm=$(mktemp -d /dev/shm/compare-nginx.XXXXXX)
server_pid=""

stop_server() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    server_pid=""
}
cleanup() {
    stop_server
    rm -rf "$shm"
    if [[ "${KEEP:-0}" != 1 ]]; then rm -rf "$work"; else echo "reports kept in $work"; fi
}
trap cleanup EXIT

free_port() {
    local port
    for _ in $(seq 100); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
    done
    echo "no free port" >&2; exit 1
}

wait_port() { # port: up to 20 s
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.2
    done
    echo "nothing listens on 127.0.0.1:$1" >&2; exit 1
}

# The reference input: 720p30 H.264 + AAC at about 3.2 Mbit/s, keyframe every 2 s, 60 s.
input=${INPUT:-$work/reference-720p30-3200k.flv}
if [[ ! -f "$input" ]]; then
    echo "generating $input"
    ffmpeg -hide_banner -nostdin -loglevel error -y \
        -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine=frequency=440:sample_rate=48000 -t 60 \
        -c:v libx264 -preset veryfast -pix_fmt yuv420p -b:v 3M -maxrate 3M -bufsize 6M -g 60 -keyint_min 60 -sc_threshold 0 \
        -c:a aac -b:a 128k -ac 2 -f flv "$input"
fi

if [[ "${NO_BUILD:-0}" != 1 ]]; then
    dotnet build -c Release "$here/MediaServer.Host" -nologo -v q
    dotnet build -c Release "$here/MediaServer.Benchmarks" -nologo -v q
fi
host_bin=$here/MediaServer.Host/bin/Release/net10.0/MediaServer
load_dll=$here/MediaServer.Benchmarks/bin/Release/net10.0/MediaServer.Benchmarks.dll

start_ours() {
    rtmp_port=$(free_port); http_port=$(free_port)
    local data=$work/ours-data-$1
    mkdir -p "$data"
    "$host_bin" --MediaServer:Rtmp:Port="$rtmp_port" --MediaServer:Http:Port="$http_port" --MediaServer:BindAddress=127.0.0.1 \
        --MediaServer:DataDirectory="$data" --Logging:LogLevel:Default=Warning ${OURS_ARGS:-} ${OURS_SCENARIO_ARGS:-} >"$work/ours-$1.log" 2>&1 &
    server_pid=$!
    wait_port "$rtmp_port"; wait_port "$http_port"
    rtmp_url=rtmp://127.0.0.1:$rtmp_port/live
    hls_url="http://127.0.0.1:$http_port/live/{key}/index.m3u8"
}

start_nginx() {
    rtmp_port=$(free_port); http_port=$(free_port)
    local prefix=$work/nginx-$1 hls=$shm/$1
    mkdir -p "$prefix/logs" "$prefix/temp" "$hls"
    cat >"$prefix/nginx.conf" <<CONF
load_module $RTMP_MODULE;
# Ignored (with a notice) unless started as root; as root, workers keep our user so they can write the HLS folder.
user $(id -un);
worker_processes 1;
daemon off;
pid $prefix/nginx.pid;
error_log $prefix/logs/error.log warn;
events { worker_connections 4096; }
rtmp {
    server {
        listen 127.0.0.1:$rtmp_port;
        chunk_size 4096;
        application live {
            live on;
            hls on;
            hls_path $hls;
            hls_fragment 2s;
            hls_playlist_length 12s;
        }
    }
}
http {
    access_log off;
    client_body_temp_path $prefix/temp/body;
    proxy_temp_path $prefix/temp/proxy;
    fastcgi_temp_path $prefix/temp/fastcgi;
    uwsgi_temp_path $prefix/temp/uwsgi;
    scgi_temp_path $prefix/temp/scgi;
    sendfile on;
    types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
    server {
        listen 127.0.0.1:$http_port;
        location /hls/ { alias $hls/; add_header Cache-Control no-cache; add_header Access-Control-Allow-Origin *; }
    }
}
CONF
    "$NGINX" -p "$prefix" -e "$prefix/logs/error.log" -c "$prefix/nginx.conf" >"$prefix/logs/stdout.log" 2>&1 &
    server_pid=$!
    wait_port "$rtmp_port"; wait_port "$http_port"
    rtmp_url=rtmp://127.0.0.1:$rtmp_port/live
    hls_url="http://127.0.0.1:$http_port/hls/{key}.m3u8"
}

run_load() { # server scenario args...
    local server=$1 scenario=$2; shift 2
    "start_$server" "$scenario"
    sleep 1
    echo "== $scenario / $server (pid $server_pid)"
    dotnet "$load_dll" load --rtmp "$rtmp_url" --hls "$hls_url" --pid "$server_pid" --input "$input" \
        --label "$server-$scenario" --json "$work/$scenario-$server.json" "$@" || echo "(the $server run reported errors)"
    if [[ $server == nginx ]]; then
        # nginx keeps its HLS output in files (here on tmpfs): memory outside its RSS, measured at the end of the run.
        du -sb "$shm/$scenario" | cut -f1 >"$work/$scenario-nginx-tmpfs-bytes"
    fi
    stop_server
}

ratio() { # scenario jq-path: ours / nginx
    jq -rn --slurpfile a "$work/$1-ours.json" --slurpfile b "$work/$1-nginx.json" \
        "(\$a[0]$2) as \$x | (\$b[0]$2) as \$y | if (\$x|type)==\"number\" and (\$y|type)==\"number\" and \$y != 0 then \"\(\$x)  \(\$y)  \((\$x / \$y * 1000 | round) / 1000)\" else \"\(\$x)  \(\$y)  -\" end"
}

has() { [[ " $SCENARIOS " == *" $1 "* ]]; }
if has realtime; then
    for server in ours nginx; do run_load "$server" realtime --publishers "$PUBLISHERS" --realtime --duration "$DURATION" --warmup "$WARMUP" --lag ${REALTIME_ARGS:-}; done
fi
if has fast; then
    for server in ours nginx; do run_load "$server" fast --publishers "$FAST_PUBLISHERS" --fast --duration "$FAST_DURATION" --no-lag; done
fi
if has viewers; then
    for server in ours nginx; do run_load "$server" viewers --publishers 1 --viewers "$VIEWERS" --realtime --duration "$DURATION" --warmup "$WARMUP" --lag; done
fi
if has latency; then
    latency() { # label hls-url mode [hls.js config]
        echo "== latency $1 ($3)"
        dotnet "$load_dll" latency --rtmp "$rtmp_url/$key" --hls "$2" --seconds "${LATENCY_SECONDS:-30}" --mode "$3" --hls-config "${4:-{\}}" \
            | jq -c --arg name "$1" '{label: $name} + .' | tee -a "$work/latency.jsonl" || echo "(the latency run $1 failed)"
    }
    for part in ${LL_PARTS:-00:00:00.2 00:00:00.5}; do
        OURS_SCENARIO_ARGS="--MediaServer:Hls:PartDuration=$part" start_ours "latency-$part"
        for c in ts fmp4; do
            key=lat-$c; latency "ours LL $c part $part" "http://127.0.0.1:$http_port/live/$key/index.m3u8?container=$c" ll
            if [[ -n "${LATENCY_HLS_CONFIG:-}" ]]; then
                key=lat-$c-cfg; latency "ours LL $c part $part $LATENCY_HLS_CONFIG" "http://127.0.0.1:$http_port/live/$key/index.m3u8?container=$c" ll "$LATENCY_HLS_CONFIG"
            fi
        done
        stop_server
    done
    OURS_SCENARIO_ARGS="--MediaServer:Hls:PartDuration=00:00:00" start_ours latency-classic
    key=lat; latency "ours classic ts" "http://127.0.0.1:$http_port/live/$key/index.m3u8" classic
    stop_server
    start_nginx latency
    key=lat; latency "nginx classic ts" "http://127.0.0.1:$http_port/hls/$key.m3u8" classic
    stop_server
fi

echo
echo "figure  ours  nginx  ours/nginx"
if has realtime; then
echo "realtime: CPU ms per stream-second       $(ratio realtime .Server.CpuMsPerStreamSecond)"
echo "realtime: RSS per stream MB              $(ratio realtime .Server.RssPerStreamMB)"
echo "realtime: RSS median MB                  $(ratio realtime .Server.RssMedianMB)"
echo "realtime: HLS window MB (listed segments)  $(ratio realtime .Lag.WindowMBMedian)"
echo "realtime: nginx HLS files on tmpfs per stream MB (not in its RSS): $(awk -v b="$(cat "$work/realtime-nginx-tmpfs-bytes")" -v n="$PUBLISHERS" 'BEGIN { printf "%.2f", b / 1e6 / n }')"
echo "realtime: segment lag p50 ms (keyframe)  $(ratio realtime .Lag.AfterKeyframeP50)"
echo "realtime: segment lag p99 ms (keyframe)  $(ratio realtime .Lag.AfterKeyframeP99)"
echo "realtime: segment lag p50 ms (last frame) $(ratio realtime .Lag.AfterLastFrameP50)"
echo "realtime: segment lag p99 ms (last frame) $(ratio realtime .Lag.AfterLastFrameP99)"
fi
if has fast; then
echo "fast: ingest MB per CPU-second           $(ratio fast .Server.IngestMBPerCpuSecond)"
echo "fast: ingest MB/s                        $(ratio fast .IngestMBPerSecond)"
echo "fast: CPU ms per media-second            $(ratio fast .Server.CpuMsPerMediaSecond)"
echo "fast: RSS median MB                      $(ratio fast .Server.RssMedianMB)"
fi
if has viewers; then
    echo "viewers: behind                          $(ratio viewers .HlsViewers.Behind)"
    echo "viewers: CPU ms per stream-second        $(ratio viewers .Server.CpuMsPerStreamSecond)"
    echo "viewers: segment lag p99 ms (keyframe)   $(ratio viewers .Lag.AfterKeyframeP99)"
    echo "viewers: bytes served MB                 $(ratio viewers .BytesServedMB)"
fi
if has latency; then
    echo
    echo "camera to screen in hls.js, ms: label  p50  p99  max  stalls  parts | server arrival to listed p50 / p99 ms"
    jq -r '"\(.label)  \(.result.p50)  \(.result.p99)  \(.result.max)  \(.result.stalls)  \(.result.parts) | \(.server.arrivalToListedP50Ms // "-") / \(.server.arrivalToListedP99Ms // "-")"' "$work/latency.jsonl"
fi
