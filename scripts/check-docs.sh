#!/usr/bin/env bash
# Fails when docs/PROPERTIES.md and the tests disagree: every test named PropertyN_... must
# be listed there as Suite.PropertyN_..., and every such name listed there must exist.
# Also fails when a tracked file points outside the repository (to a sibling shared/ folder),
# and when a public header (*/include/forge/...) does not state its contract: what may run
# on which thread (a line saying "thread") and what fails how ("error" or "fail").
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
grep -ohE '\b[A-Za-z_]+\.Property[0-9]+_[A-Za-z0-9_]+' docs/PROPERTIES.md | sort -u > "$work/docs"
git ls-files -z 'tests/*.cpp' | xargs -0 cat |
  grep -oE '(TEST|TEST_F|TEST_P|RC_GTEST_PROP|RC_GTEST_FIXTURE_PROP)\(\s*[A-Za-z_]+,\s*Property[0-9]+_[A-Za-z0-9_]+' |
  sed -E 's/.*\(\s*([A-Za-z_]+),\s*(Property[0-9A-Za-z_]+)/\1.\2/' | sort -u > "$work/tests"
status=0
if ! diff -u --label docs/PROPERTIES.md --label tests "$work/docs" "$work/tests"; then
  echo "check-docs: docs/PROPERTIES.md and the PropertyN_ tests differ (- only in the docs," \
       "+ only in the tests): update docs/PROPERTIES.md" >&2
  status=1
fi
if git grep -n -e '\.\./shared' -- . ':!scripts/check-docs.sh'; then
  echo "check-docs: the lines above point outside the repository" >&2
  status=1
fi
for header in $(git ls-files '*/include/forge/*.h' ':!tests/'); do
  missing=()
  grep -qi 'thread' "$header" || missing+=("threading (who may call it from which thread)")
  grep -qiE 'error|fail' "$header" || missing+=("errors (what fails and how)")
  if ((${#missing[@]})); then
    printf -v what '%s and ' "${missing[@]}"
    echo "check-docs: $header does not state its contract: add a comment on ${what% and }" >&2
    status=1
  fi
done
[ "$status" = 0 ] && echo "check-docs: docs/PROPERTIES.md lists every property test; every public header states threading and errors"
exit "$status"
