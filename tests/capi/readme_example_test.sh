#!/bin/sh
# The README's "Embedding" example is tests/capi/embed_example.c verbatim (which ctest builds
# and runs as forge_embed_example), so the documented code cannot rot.
# Usage: readme_example_test.sh README.md EXAMPLE.c
set -eu
extracted=$(mktemp)
trap 'rm -f "$extracted"' EXIT
awk '/^## Embedding/ {section = 1} section && /^```c$/ {code = 1; next}
     code && /^```$/ {exit} code {print}' "$1" > "$extracted"
if ! diff -u "$2" "$extracted"; then
  echo "README.md's Embedding example differs from $2 (diff above): copy one into the other" >&2
  exit 1
fi
echo "README example matches $2"
