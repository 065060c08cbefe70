#!/usr/bin/env bash
# Regenerates the Python stubs of proto/ into proto/gradwire/v1 (imported as gradwire.v1).
# The generated *_pb2*.py(i) files are never edited by hand. With --check, regenerates into a
# scratch folder and fails when the committed files differ.
set -euo pipefail
cd "$(dirname "$0")/.."
out=proto
if [[ "${1:-}" == "--check" ]]; then out=$(mktemp -d); fi
python -m grpc_tools.protoc -Iproto \
  --python_out="$out" --grpc_python_out="$out" \
  --mypy_out="$out" --mypy_grpc_out="$out" \
  proto/gradwire/v1/gradwire.proto
if [[ "${1:-}" == "--check" ]]; then
  for f in gradwire_pb2.py gradwire_pb2.pyi gradwire_pb2_grpc.py gradwire_pb2_grpc.pyi; do
    if ! cmp -s "$out/gradwire/v1/$f" "proto/gradwire/v1/$f"; then
      echo "stale generated file: proto/gradwire/v1/$f (run: make proto)" >&2
      exit 1
    fi
  done
  rm -rf "$out"
  echo "generated stubs are up to date"
fi
