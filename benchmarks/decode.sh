#!/usr/bin/env bash
# Benchmark (issue 2): decode + crop + area-resize to 128x128 gray of a 1008x784 30 fps H.264
# recording, in frames/s, divided by the frames/s of the ffmpeg CLI decoding the same file in
# the same run. Best of N alternating runs each, to damp noise from the shared cores.
# Usage: benchmarks/decode.sh [SECONDS=120] [RUNS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_OF_VIDEO="${1:-120}"; RUNS="${2:-3}"
bash scripts/setup.sh
swift build -c release --product sono-bench >/dev/null
swift build -c release --product sono-sample >/dev/null
BIN="$(swift build -c release --show-bin-path)"
WORK="${BENCH_DIR:-out/bench}"; mkdir -p "$WORK"
VIDEO="$WORK/bench_${SECONDS_OF_VIDEO}s.mp4"
[ -f "$VIDEO" ] || "$BIN/sono-sample" --out "$WORK" --name "bench_${SECONDS_OF_VIDEO}s" --seconds "$SECONDS_OF_VIDEO" >/dev/null
FRAMES=$(ffprobe -v error -select_streams v:0 -show_entries stream=nb_frames -of csv=p=0 "$VIDEO")
cat "$VIDEO" > /dev/null  # into the page cache

now() { date +%s.%N; }
best_ffmpeg_all=999999; best_ffmpeg_video=999999; best_ours=999999; best_ours1=999999
for i in $(seq "$RUNS"); do
  t0=$(now); ffmpeg -hide_banner -loglevel error -threads 2 -i "$VIDEO" -f null - ; t1=$(now)
  best_ffmpeg_all=$(echo "if ($t1-$t0 < $best_ffmpeg_all) $t1-$t0 else $best_ffmpeg_all" | bc -l)
  t0=$(now); ffmpeg -hide_banner -loglevel error -threads 2 -i "$VIDEO" -an -f null - ; t1=$(now)
  best_ffmpeg_video=$(echo "if ($t1-$t0 < $best_ffmpeg_video) $t1-$t0 else $best_ffmpeg_video" | bc -l)
  t0=$(now); "$BIN/sono-bench" decode "$VIDEO" --threads 2 --size 128 --crop 100,60,808,700 >/dev/null; t1=$(now)
  best_ours=$(echo "if ($t1-$t0 < $best_ours) $t1-$t0 else $best_ours" | bc -l)
  t0=$(now); "$BIN/sono-bench" decode "$VIDEO" --threads 2 --size 128 --crop 100,60,808,700 --every 1000000 >/dev/null; t1=$(now)
  best_ours1=$(echo "if ($t1-$t0 < $best_ours1) $t1-$t0 else $best_ours1" | bc -l)
done
fps() { echo "$FRAMES / $1" | bc -l; }
printf "recording: %s (%s frames, 1008x784, 30 fps, H.264)\n" "$VIDEO" "$FRAMES"
printf "ffmpeg -threads 2 -i X -f null -      : %7.1f frames/s (%.2f s)\n" "$(fps $best_ffmpeg_all)" "$best_ffmpeg_all"
printf "ffmpeg -threads 2 -i X -an -f null -  : %7.1f frames/s (%.2f s)\n" "$(fps $best_ffmpeg_video)" "$best_ffmpeg_video"
printf "sono decode+crop+resize 128 (all)     : %7.1f frames/s (%.2f s)\n" "$(fps $best_ours)" "$best_ours"
printf "sono decode only (no conversion)      : %7.1f frames/s (%.2f s)\n" "$(fps $best_ours1)" "$best_ours1"
printf "ratio vs ffmpeg -f null (audio too)   : %.3f\n" "$(echo "$best_ffmpeg_all / $best_ours" | bc -l)"
printf "ratio vs ffmpeg -an -f null           : %.3f\n" "$(echo "$best_ffmpeg_video / $best_ours" | bc -l)"
