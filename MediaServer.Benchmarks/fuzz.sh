#!/usr/bin/env bash
# Coverage-guided fuzzing of one target with AFL++ and SharpFuzz. See docs/FUZZING.md.
#
#   MediaServer.Benchmarks/fuzz.sh <target> [seconds]      (default 1800 s; `fuzz.sh --list` names the targets)
#
# Builds MediaServer.Benchmarks in Release into $FUZZ_WORK/bin, instruments the product assemblies (Core, Rtmp,
# Hls) with the `sharpfuzz` tool, and runs afl-fuzz for the given time with Corpus/<target> as seeds. Findings
# land in $FUZZ_WORK/out/<target>/default/{crashes,hangs}; replay them with
#   dotnet $FUZZ_WORK/bin/MediaServer.Benchmarks.dll fuzz <target> --replay $FUZZ_WORK/out/<target>/default/crashes
# Environment: FUZZ_WORK (default /tmp/mediaserver-fuzz, outside the repository), FUZZ_TIMEOUT_MS (default
# 2000), FUZZ_OUT_OF_PROCESS=1 (SharpFuzz out-of-process mode: stack overflows become crashes too), FUZZ_NO_BUILD=1.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${FUZZ_WORK:-/tmp/mediaserver-fuzz}"
bin="$work/bin"
# The sharpfuzz tool: `dotnet tool install --global SharpFuzz.CommandLine` puts it in ~/.dotnet/tools.
export PATH="$PATH:$HOME/.dotnet/tools"

if [[ $# -lt 1 || "$1" == "-h" || "$1" == "--help" ]]; then
    sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 2
fi

target="$1"
seconds="${2:-1800}"

if [[ "${FUZZ_NO_BUILD:-0}" != 1 || ! -f "$bin/MediaServer.Benchmarks.dll" ]]; then
    rm -rf "$bin"
    dotnet build "$repo/MediaServer.Benchmarks" -c Release -o "$bin" -v quiet -nologo
    for assembly in MediaServer.Core MediaServer.Rtmp MediaServer.Hls; do
        # Instruments every type of the assembly in place (AFL edge coverage through SharpFuzz.Common).
        sharpfuzz "$bin/$assembly.dll"
    done
fi

if [[ "$target" == "--list" ]]; then
    exec dotnet "$bin/MediaServer.Benchmarks.dll" fuzz --list
fi

corpus="$repo/MediaServer.Benchmarks/Fuzzing/Corpus/$target"
if [[ ! -d "$corpus" ]]; then
    echo "No corpus for target '$target' ($corpus)." >&2
    exit 2
fi

out="$work/out/$target"
mkdir -p "$out"
mode=()
if [[ "${FUZZ_OUT_OF_PROCESS:-0}" == 1 ]]; then
    mode=(--out-of-process)
fi

# dotnet is not an AFL-instrumented binary (the coverage map is written by the instrumented assemblies).
export AFL_SKIP_BIN_CHECK=1
# Shared machines: do not insist on the performance CPU governor, a core of our own, or the core pattern.
export AFL_SKIP_CPUFREQ=1
export AFL_NO_AFFINITY=1
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
# Continue a previous run of the same target instead of refusing its output directory.
export AFL_AUTORESUME=1
# Plain progress lines into $FUZZ_WORK/out/<target>.log instead of the full-screen status.
export AFL_NO_UI=1
# The bounded-memory contract: a run that tries to allocate past 1 GiB is an OutOfMemoryException, a crash.
export DOTNET_GCHeapHardLimit=0x40000000
export DOTNET_TieredPGO=0

# -m none: the CLR reserves far more address space than AFL's default limit. -t: the first executions JIT.
# timeout bounds the whole run even if afl-fuzz ignores -V (e.g. while calibrating a slow seed).
timeout --signal=INT --kill-after=30 $((seconds + 60)) \
    afl-fuzz -i "$corpus" -o "$out" -t "${FUZZ_TIMEOUT_MS:-2000}" -m none -V "$seconds" \
    -- dotnet "$bin/MediaServer.Benchmarks.dll" fuzz "$target" "${mode[@]}" >"$out.log" 2>&1 || status=$?
tail -n 4 "$out.log"

stats="$out/default/fuzzer_stats"
if [[ -f "$stats" ]]; then
    grep -E '^(run_time|execs_done|execs_per_sec|corpus_count|saved_crashes|saved_hangs|bitmap_cvg|stability) ' "$stats"
fi

exit "${status:-0}"
