#!/usr/bin/env bash
# Re-vendors the console's third-party assets from the npm registry at the versions pinned
# below, with their licence files. To update one: change its version here, run this script,
# check the console in the browser tests, and commit assets/vendor/ (MANIFEST records what npm
# gave: the tarball's sha512 integrity). The files are embedded in the binary by
# src/http/console/assets.rs; nothing is fetched at build or run time.
set -euo pipefail
cd "$(dirname "$0")"
PACKAGES=(
  "htmx.org@2.0.11:dist/htmx.min.js"
  "leaflet@1.9.4:dist/leaflet.js dist/leaflet.css dist/images/marker-icon.png dist/images/marker-icon-2x.png dist/images/marker-shadow.png dist/images/layers.png dist/images/layers-2x.png"
  "topojson-client@3.1.0:dist/topojson-client.min.js"
  "world-atlas@2.0.2:countries-10m.json countries-50m.json"
)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
: > MANIFEST.new
for entry in "${PACKAGES[@]}"; do
  spec=${entry%%:*}
  files=${entry#*:}
  name=${spec%@*}
  version=${spec##*@}
  (cd "$work" && npm pack "$spec" --silent >/dev/null)
  tarball=$(ls "$work"/"${name//\//-}"-"$version".tgz)
  integrity=$(npm view "$spec" dist.integrity)
  mkdir -p "$work/$name" && tar xzf "$tarball" -C "$work/$name"
  rm -rf "$spec" && mkdir -p "$spec"
  for f in $files LICENSE; do
    mkdir -p "$spec/$(dirname "$f")"
    cp "$work/$name/package/$f" "$spec/$f"
  done
  printf '%s %s\n' "$spec" "$integrity" >> MANIFEST.new
done
mv MANIFEST.new MANIFEST
echo "vendored:"; cat MANIFEST
