#!/usr/bin/env bash
# Builds examples/go/tutorial from Debian's Go packages, in GOPATH mode (no module proxy needed):
#   apt-get install golang-go protobuf-compiler protoc-gen-go protoc-gen-go-grpc \
#       golang-google-grpc-dev golang-github-golang-protobuf-1-5-dev
# The Go stubs are generated from proto/gradwire/v1/gradwire.proto into a scratch GOPATH (the
# proto's go_package names their import path); nothing generated is committed.
#   examples/go/build.sh [OUTPUT]      (default: examples/go/tutorial)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
output="$(realpath -m "${1:-$here/tutorial}")"
gopath="$(mktemp -d)"
trap 'rm -rf "$gopath"' EXIT
mkdir -p "$gopath/src/gradwire-tutorial"
protoc -I"$repo/proto" --go_out="$gopath/src" --go-grpc_out="$gopath/src" "$repo/proto/gradwire/v1/gradwire.proto"
cp "$here/tutorial.go" "$here/client.go" "$gopath/src/gradwire-tutorial/"
cd "$gopath/src/gradwire-tutorial"
GOPATH="$gopath:/usr/share/gocode" GO111MODULE=off \
  go build -o "$output" .
echo "built $output"
