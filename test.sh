#!/usr/bin/env bash
# The README's test command. Installs what the tests drive (Debian/Ubuntu apt packages and the node clients),
# checking each capability itself rather than one binary per package family, then runs
# `dotnet test MediaServer.sln` with CI=true (a test whose tool is missing fails, never skips) and ends with
# "N passed, M failed, K skipped"; the exit status is non-zero on any failure.
#
#   ./test.sh                          install what is missing, run every test
#   ./test.sh --filter X [args...]     the same, arguments passed on to dotnet test (e.g. a --filter)
#   ./test.sh --check                  install and check only, run no test
set -uo pipefail
cd "$(dirname "$0")"

export DEBIAN_FRONTEND=noninteractive
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

check_only=false
if [ "${1:-}" = "--check" ]; then
  check_only=true
  shift
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then
  sudo_cmd=(sudo)
fi

# Each check runs the capability a test uses; a failing check names the packages that provide it.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

have_ffmpeg() {
  # Encoders read into a variable first: `grep -q` closing the pipe early fails the pipeline under pipefail.
  command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || return 1
  local encoders
  encoders=$(ffmpeg -hide_banner -encoders 2>/dev/null) || return 1
  grep -q ' libx264 ' <<<"$encoders" && grep -q ' libx265 ' <<<"$encoders" && grep -q ' aac ' <<<"$encoders"
}
have_chromium() {
  local chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
  [ -x "$chromium" ] || return 1
  local dom
  dom=$(timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --user-data-dir="$tmp/chromium" --dump-dom about:blank 2>/dev/null)
  grep -q '<html' <<<"$dom"
}
have_node() { command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 && node -e 'process.exit(0)'; }
have_curl() { command -v curl >/dev/null 2>&1; }
have_nginx_rtmp() {
  # The RTMP module loads and its directives parse (what the nginx comparison tests start).
  [ -x /usr/sbin/nginx ] && [ -f /usr/share/nginx/modules/ngx_rtmp_module.so ] || return 1
  cat >"$tmp/nginx.conf" <<EOF
load_module /usr/share/nginx/modules/ngx_rtmp_module.so;
pid $tmp/nginx.pid;
error_log $tmp/error.log;
events {}
rtmp { server { listen 127.0.0.1:19350; application live { live on; } } }
EOF
  /usr/sbin/nginx -t -q -p "$tmp" -c "$tmp/nginx.conf" >/dev/null 2>&1
}
have_gstreamer() {
  # Every element the GStreamer pipelines of the tests name.
  command -v gst-launch-1.0 >/dev/null 2>&1 && command -v gst-inspect-1.0 >/dev/null 2>&1 || return 1
  local element
  for element in videotestsrc audiotestsrc audioconvert queue x264enc h264parse voaacenc aacparse flvmux flvdemux rtmp2sink rtmp2src rtmpsink rtmpsrc fakesink; do
    gst-inspect-1.0 --exists "$element" 2>/dev/null || return 1
  done
}
have_python() { /usr/bin/python3 -c 'import jwt, requests' 2>/dev/null; }
have_ruby() { command -v ruby >/dev/null 2>&1 && ruby -e 'require "jwt"' 2>/dev/null; }

declare -A packages=(
  [ffmpeg]="ffmpeg"
  [chromium]="chromium"
  [node]="nodejs npm"
  [curl]="curl"
  [nginx_rtmp]="nginx libnginx-mod-rtmp"
  [gstreamer]="gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly"
  [python]="python3 python3-jwt python3-requests"
  [ruby]="ruby ruby-jwt"
)
capabilities=(ffmpeg chromium node curl nginx_rtmp gstreamer python ruby)

need=()
for capability in "${capabilities[@]}"; do
  "have_$capability" || need+=(${packages[$capability]})
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  "${sudo_cmd[@]}" apt-get update -qq && "${sudo_cmd[@]}" apt-get install -y -qq "${need[@]}" >/dev/null \
    || { echo "apt-get install ${need[*]} failed"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
fi
missing=()
for capability in "${capabilities[@]}"; do
  "have_$capability" || missing+=("$capability")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "still missing after installing: ${missing[*]}"
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi
echo "tools: ${capabilities[*]}: ok"

# Node clients (hls.js, video.js and playwright-core driving the system's chromium; jsonwebtoken), pinned by package-lock.json.
npm ci --prefix MediaServer.Tests/Clients --no-audit --no-fund >/dev/null \
  || { echo "npm ci failed"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }

if [ "$check_only" = true ]; then
  exit 0
fi

log="$tmp/test.log"
# A missing tool fails, never skips (Tools.RequireTool).
export CI=true
dotnet test MediaServer.sln "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# One summary line per test assembly; add them up.
passed=0 failed=0 skipped=0
while read -r line; do
  failed=$((failed + $(sed -E 's/.*Failed: +([0-9]+),.*/\1/' <<<"$line")))
  passed=$((passed + $(sed -E 's/.*Passed: +([0-9]+),.*/\1/' <<<"$line")))
  skipped=$((skipped + $(sed -nE 's/.*Skipped: +([0-9]+),.*/\1/p' <<<"$line")))
done < <(grep -E '(Passed|Failed|Skipped)! +- +Failed: +[0-9]+, +Passed: +[0-9]+' "$log")
if ! grep -qE '(Passed|Failed|Skipped)! +- +Failed: +[0-9]+, +Passed: +[0-9]+' "$log"; then
  echo "no test summary found (build failure?)"
  failed=1
  [ "$status" -eq 0 ] && status=1
fi
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
exit "$status"
