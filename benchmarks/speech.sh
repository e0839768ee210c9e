#!/usr/bin/env bash
# Speech activity: our detector against Silero VAD on the same audio, per condition (issue 11).
# Usage: benchmarks/speech.sh [LONG_MINUTES=30] [SHORT_SECONDS=60] [SEED=21]
# Generates sample recordings with sono-sample (foreign espeak-ng voices unless noted, AAC
# 128 kb/s unless noted), runs `sono-bench speech` (release) and Silero VAD 6.2.3 (PyPI, CPU,
# in a venv under out/bench) on each, and prints frame-level P/R/F1 and the clip-level figures
# (2 s clips on a 2 s grid, selected at speech ratio ≥ 0.25) for both. See benchmarks/speech.py.
set -euo pipefail
cd "$(dirname "$0")/.."
LONG_MINUTES="${1:-30}"; SHORT="${2:-60}"; SEED="${3:-21}"
bash scripts/setup.sh
swift build -c release --product sono-bench >/dev/null
swift build -c release --product sono-sample >/dev/null
BIN="$(swift build -c release --show-bin-path)"
WORK="out/bench/speech"; VENV="out/bench/speech-venv"
mkdir -p "$WORK"
if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
"$VENV/bin/python" -c "import silero_vad, torch, numpy" 2>/dev/null \
  || "$VENV/bin/pip" install -q numpy "torch==2.13.0+cpu" silero-vad==6.2.3 \
  || "$VENV/bin/pip" install -q numpy torch silero-vad==6.2.3

gen() {  # name seconds args...
  local name="$1" seconds="$2"; shift 2
  [ -f "$WORK/$name.speech.json" ] && [ -f "$WORK/$name.mp4" ] && return 0
  "$BIN/sono-sample" --out "$WORK" --name "$name" --seconds "$seconds" --size 64x64 --fps 10 --channels 1 --seed "$SEED" "$@" >/dev/null
}
F="--voices foreign"
# The recordings of the issue: speech -25…-18 dBFS over pink noise and hum (≈30 dB SNR), AAC 160 kb/s.
ISSUE="--noise pink,hum --snr-db 30 --speech-dbfs=-21.5 --speech-jitter-db 3.5 --audio-kbps 160 $F"
gen s_issue_pink+hum_30dB   "$SHORT" $ISSUE --long-silence-s 20
gen s_white_20dB_standard   "$SHORT" --snr-db 20
gen s_white_5dB_standard    "$SHORT" --snr-db 5
for snr in 30 20 10 5; do gen "s_pink_${snr}dB" "$SHORT" --noise pink --snr-db "$snr" $F; done
for kind in brown fan room pink,hum doppler,room; do
  for snr in 10 5; do gen "s_${kind/,/+}_${snr}dB" "$SHORT" --noise "$kind" --snr-db "$snr" $F; done
done
gen s_music_20dB            "$SHORT" --noise music,room --snr-db 20 $F
gen s_music_10dB            "$SHORT" --noise music,room --snr-db 10 $F
gen s_2nd-talker_pink_10dB  "$SHORT" --noise pink --snr-db 10 --second-talker-db 10 $F
gen s_level±20_pink+hum_10dB "$SHORT" --noise pink,hum --snr-db 10 --level-change-db 20 $F
gen s_clicks_fan_10dB       "$SHORT" --noise fan --snr-db 10 --clicks-per-minute 30 $F
gen s_mp3-64k_pink_10dB     "$SHORT" --noise pink --snr-db 10 --audio-codec mp3 --audio-kbps 64 $F
gen s_no-speech_pink+hum_30dB "$SHORT" --noise pink,hum --snr-db 30 --no-speech
if [ "$LONG_MINUTES" != 0 ]; then
  LONG=$((LONG_MINUTES * 60))
  gen "l_issue_pink+hum_30dB_${LONG_MINUTES}min" "$LONG" $ISSUE --long-silence-s 60
  gen "l_fan+doppler_level±20_10dB_${LONG_MINUTES}min" "$LONG" --noise fan,doppler --snr-db 10 --level-change-db 20 --long-silence-s 60 --clicks-per-minute 10 $F
fi
"$VENV/bin/python" benchmarks/speech.py "$BIN/sono-bench" "$WORK" --json "$WORK/results.json"
