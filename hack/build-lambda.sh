#!/usr/bin/env bash
# Builds the ResizeImage function's deployment packages, reproducibly:
#   lambda/bundle/dist/bootstrap-x86_64.zip and bootstrap-arm64.zip
# (Lambda's architecture names), each with `bootstrap` at its root. The same
# source gives the same bytes, hence the same CodeSha256, so the controller
# redeploys the function only when the code really changed.
#
# Usage: hack/build-lambda.sh [--verify] [x86_64|arm64 ...]
#   --verify  build everything a second time in a fresh directory and fail
#             unless the zips are byte-identical.
set -euo pipefail

cd "$(dirname "$0")/.."
out=lambda/bundle/dist
verify=0
archs=()
for a in "$@"; do
  case "$a" in
    --verify) verify=1 ;;
    x86_64|arm64) archs+=("$a") ;;
    *) echo "usage: $0 [--verify] [x86_64|arm64 ...]" >&2; exit 2 ;;
  esac
done
[ ${#archs[@]} -gt 0 ] || archs=(x86_64 arm64)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/mkzip" ./lambda/bundle/internal/mkzip

goarch() { case "$1" in x86_64) echo amd64 ;; arm64) echo arm64 ;; esac; }

# build ARCH DIR: writes DIR/bootstrap-ARCH.zip.
build() {
  local arch=$1 dir=$2
  mkdir -p "$dir/$arch"
  # lambda.norpc drops the legacy Go 1.x RPC mode (provided.al2023 uses the
  # Runtime API); -trimpath, -buildvcs=false and an empty build ID keep paths,
  # VCS state and per-machine IDs out of the binary.
  CGO_ENABLED=0 GOOS=linux GOARCH=$(goarch "$arch") \
    go build -tags lambda.norpc -trimpath -buildvcs=false \
      -ldflags='-s -w -buildid=' -o "$dir/$arch/bootstrap" ./lambda
  "$tmp/mkzip" -o "$dir/bootstrap-$arch.zip" "bootstrap=$dir/$arch/bootstrap"
}

codesha() { openssl dgst -sha256 -binary "$1" | base64; }

mkdir -p "$out"
for arch in "${archs[@]}"; do
  build "$arch" "$tmp/a"
  # Copy then rename: a controller build running meanwhile embeds either the
  # old zip or the new one, never half of one.
  cp "$tmp/a/bootstrap-$arch.zip" "$out/bootstrap-$arch.zip.tmp"
  mv "$out/bootstrap-$arch.zip.tmp" "$out/bootstrap-$arch.zip"
  echo "$out/bootstrap-$arch.zip  $(stat -c %s "$out/bootstrap-$arch.zip") bytes  CodeSha256 $(codesha "$out/bootstrap-$arch.zip")"
done

if [ "$verify" = 1 ]; then
  for arch in "${archs[@]}"; do
    build "$arch" "$tmp/b"
    if ! cmp -s "$tmp/a/bootstrap-$arch.zip" "$tmp/b/bootstrap-$arch.zip"; then
      echo "not reproducible: two builds of bootstrap-$arch.zip differ" >&2
      exit 1
    fi
  done
  echo "reproducible: a second build gave identical bytes"
fi
