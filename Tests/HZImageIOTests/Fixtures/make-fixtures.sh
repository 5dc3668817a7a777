#!/bin/sh
# Rebuilds the JPEG test fixtures from real camera photos in Debian's forensics-samples-files
# package (CC-BY-SA-4.0, see LICENSE.md).
#
# Each camera fixture keeps the camera's original APP1 EXIF segment byte for byte, so the EXIF
# tests read what real firmware wrote, while the picture is re-encoded at 1/4 or 1/8 scale so the
# file stays small. The remaining fixtures are re-encodings of the same pictures with other
# colour layouts (grayscale, 4:2:2, 4:4:0, 4:1:1) and restart markers, which cameras rarely emit.
#
# Needs apt-get and dpkg-deb (download and unpack only), djpeg and cjpeg (libjpeg-turbo-progs)
# and python3. Run it from anywhere; it writes next to itself.
set -eu

fixtures=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$work"
apt-get download forensics-samples-files
dpkg-deb -x forensics-samples-files_*.deb unpacked
photos=unpacked/usr/share/forensics-samples/original-files

# with_camera_exif PHOTO SMALL OUT: writes OUT as SOI + PHOTO's Exif APP1 + SMALL without its SOI
# and JFIF APP0, so the EXIF block stays the only APP segment in front, as cameras write it.
with_camera_exif() {
    python3 - "$@" <<'PY'
import sys

def segments(jpeg):
    """(marker, start, end) of each segment from SOI up to the first SOS."""
    offset = 2
    while jpeg[offset + 1] != 0xDA:
        length = int.from_bytes(jpeg[offset + 2:offset + 4], "big")
        yield jpeg[offset + 1], offset, offset + 2 + length
        offset += 2 + length

photo_name, small_name, out_name = sys.argv[1:]
photo = open(photo_name, "rb").read()
small = open(small_name, "rb").read()
app1 = next(photo[start:end] for marker, start, end in segments(photo)
            if marker == 0xE1 and photo[start + 4:start + 10] == b"Exif\0\0")
rest = small[2:]
if rest[1] == 0xE0:
    rest = rest[2 + int.from_bytes(rest[2:4], "big"):]
open(out_name, "wb").write(b"\xff\xd8" + app1 + rest)
PY
}

djpeg -scale 1/4 "$photos/pic1/IMG_1054.JPG" > canon.ppm
djpeg -scale 1/8 "$photos/pic2/IMG_20200124_231153.jpg" > xiaomi-night.ppm
djpeg -scale 1/8 "$photos/pic2/IMG_20200608_111614.jpg" > xiaomi-day.ppm

# Canon PowerShot SX530 HS: progressive 4:4:4 like the camera's own file, little-endian EXIF.
cjpeg -quality 85 -sample 1x1 -progressive canon.ppm > small.jpg
with_camera_exif "$photos/pic1/IMG_1054.JPG" small.jpg "$fixtures/canon-sx530hs.jpg"

# Xiaomi Mi A3: baseline 4:2:0, big-endian EXIF; the night shot is tagged Rotate 180.
cjpeg -quality 80 xiaomi-night.ppm > small.jpg
with_camera_exif "$photos/pic2/IMG_20200124_231153.jpg" small.jpg "$fixtures/xiaomi-mi-a3-rotate180.jpg"
cjpeg -quality 80 xiaomi-day.ppm > small.jpg
with_camera_exif "$photos/pic2/IMG_20200608_111614.jpg" small.jpg "$fixtures/xiaomi-mi-a3.jpg"

# Other colour layouts, no EXIF. The 500×375 picture has odd chroma sizes in every layout.
cjpeg -quality 85 -grayscale canon.ppm > "$fixtures/gray.jpg"
cjpeg -quality 60 -sample 2x1 -restart 1 xiaomi-night.ppm > "$fixtures/sampling-422-restarts.jpg"
cjpeg -quality 60 -sample 1x2 xiaomi-night.ppm > "$fixtures/sampling-440.jpg"
cjpeg -quality 60 -sample 4x1 xiaomi-night.ppm > "$fixtures/sampling-411.jpg"
