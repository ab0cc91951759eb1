#!/usr/bin/env bash
# Builds a small seed corpus for the fuzz targets with the ffmpeg CLI (nothing here is committed):
# tiny clips in every accepted container/codec, rotated, variable frame rate, truncated, and
# tiny JPEG / PNG / WebP images, one with an EXIF orientation.
# Usage: fuzz/make-corpus.sh [corpus-dir]   (default: fuzz/corpus)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/corpus}"
mkdir -p "$out/video" "$out/image"
ff() { SVT_LOG=1 ffmpeg -hide_banner -loglevel error -nostdin -y "$@"; }
src=(-f lavfi -i "testsrc2=size=64x48:rate=10:duration=1")
v="$out/video"
ff "${src[@]}" -c:v libx264 -preset ultrafast -pix_fmt yuv420p "$v/h264.mp4"
ff "${src[@]}" -c:v libx264 -preset ultrafast -pix_fmt yuv420p -movflags +faststart "$v/h264_faststart.mp4"
ff "${src[@]}" -c:v libx265 -preset ultrafast -x265-params log-level=error -pix_fmt yuv420p "$v/hevc.mov"
ff "${src[@]}" -c:v libvpx -deadline realtime -cpu-used 8 -pix_fmt yuv420p "$v/vp8.webm"
ff "${src[@]}" -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -pix_fmt yuv420p "$v/vp9.webm"
ff -f lavfi -i "testsrc2=size=64x64:rate=10:duration=1" -c:v libsvtav1 -preset 12 -pix_fmt yuv420p "$v/av1.mkv"
ff "${src[@]}" -c:v mpeg4 -q:v 8 "$v/mpeg4.avi"
ff "${src[@]}" -f lavfi -i "sine=duration=1" -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac "$v/with_audio.mp4"
ff -i "$v/h264_faststart.mp4" -c copy -metadata:s:v:0 rotate=90 "$v/rot90.mp4"
ff "${src[@]}" -vf "setpts='(N+floor(N/3)*2)/(10*TB)'" -fps_mode passthrough -c:v libx264 -preset ultrafast -pix_fmt yuv420p "$v/vfr.mp4"
head -c 3000 "$v/h264_faststart.mp4" > "$v/truncated.mp4"
i="$out/image"
ff -f lavfi -i "testsrc2=size=48x32" -frames:v 1 "$i/a.jpg"
ff -f lavfi -i "testsrc2=size=48x32" -frames:v 1 "$i/a.png"
ff -f lavfi -i "testsrc2=size=48x32" -frames:v 1 -pix_fmt rgba "$i/rgba.png"
ff -f lavfi -i "testsrc2=size=48x32" -frames:v 1 -quality 60 "$i/a.webp"
ff -f lavfi -i "testsrc2=size=48x32" -frames:v 1 -lossless 1 "$i/lossless.webp"
# The JPEG again with an APP1 Exif segment holding Orientation = 6.
python3 - "$i/a.jpg" "$i/exif6.jpg" <<'PY'
import struct, sys
jpeg = open(sys.argv[1], "rb").read()
tiff = b"MM" + struct.pack(">HI", 42, 8) + struct.pack(">HHHIHHI", 1, 0x0112, 3, 1, 6, 0, 0)
app1 = b"Exif\0\0" + tiff
open(sys.argv[2], "wb").write(jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + jpeg[2:])
PY
ls -l "$out"/video "$out"/image | awk '{s+=$5} END {print "corpus bytes:", s}'
