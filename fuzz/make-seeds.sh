#!/usr/bin/env bash
# The inspection's seeds, made in "$1/seeds/inspect" (the fuzz cache): the first 64 kB of every
# fixture photo and screenshot (all metadata segments and the start of the data, so that no large
# file is committed twice), and the EXIF crate's own test files (JPEG, PNG, WebP, HEIC, TIFF with
# EXIF in each), from the registry's copy of the kamadak-exif source that the build fetched.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="$1/seeds/inspect"
mkdir -p "$dir"
for f in fixtures/photos/*.jpg fixtures/photos/*.heic fixtures/screenshots/*.png; do
  head -c 65536 "$f" > "$dir/$(basename "$f")"
done
for f in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/kamadak-exif-*/tests/*.{jpg,png,webp,heic,tif}; do
  [[ -f "$f" ]] && cp "$f" "$dir/kamadak-exif-$(basename "$f")"
done
ls "$dir" | wc -l
