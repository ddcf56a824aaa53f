#!/bin/sh
# The Debian packages: cpack builds forge, libforge0 and libforge-dev; lintian reports no
# errors (its warnings are printed); their contents, extracted with dpkg -x into a temp
# root, give a `forge doctor` that runs and a C consumer that builds through forge.pc and
# runs against the extracted libforge.so.0. Then `apt-get install ./*.deb` on a fresh
# Debian 12 root made by mmdebstrap from this machine's apt sources (the dependencies come
# from the archive, not from this machine), where the installed `forge` hashes, stores and
# serves: a blob PUT over HTTP from outside the root is read back, and the packaged systemd
# user unit's command runs the agent there (deb_agent_probe.sh).
# Usage: deb_test.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1
source=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/forge-deb-test.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "== cpack -G DEB"
(cd "$work" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/out" > cpack.log 2>&1) ||
  { cat "$work/cpack.log"; exit 1; }
set -- "$work"/out/forge_*.deb "$work"/out/libforge0_*.deb "$work"/out/libforge-dev_*.deb
for deb in "$@"; do
  test -f "$deb" || { echo "missing package: $deb" >&2; ls "$work/out" >&2; exit 1; }
  echo "$(basename "$deb"): Depends: $(dpkg-deb -f "$deb" Depends)"
done
dpkg-deb -f "$work"/out/libforge0_*.deb Depends | grep -q 'liburing2' ||
  { echo "libforge0 does not depend on liburing2 (dpkg-shlibdeps did not run?)" >&2; exit 1; }
dpkg-deb -f "$work"/out/forge_*.deb Depends | grep -q 'libcurl4' ||
  { echo "forge does not depend on libcurl4 (loaded at run time for upstreams)" >&2; exit 1; }
dpkg-deb -f "$work"/out/libforge-dev_*.deb Depends | grep -q 'libforge0 (= ' ||
  { echo "libforge-dev does not depend on its libforge0" >&2; exit 1; }
dpkg-deb -c "$work"/out/libforge0_*.deb | grep 'libforge.so.0 ->' > /dev/null ||
  { echo "libforge0 lacks libforge.so.0" >&2; exit 1; }
dpkg-deb -c "$work"/out/forge_*.deb | grep -q ' ./usr/lib/systemd/user/forge-agent.service$' ||
  { echo "forge lacks the agent's systemd user unit" >&2; exit 1; }

echo "== lintian (errors fail the test; warnings are listed)"
lintian --fail-on error --tag-display-limit 0 "$@" || { echo "lintian reported errors" >&2; exit 1; }

echo "== dpkg -x into a temp root"
root=$work/root
for deb in "$@"; do dpkg -x "$deb" "$root"; done
libdir=$(dirname "$(find "$root" -name 'libforge.so.0' | head -1)")
status=0
LD_LIBRARY_PATH="$libdir" "$root/usr/bin/forge" doctor "$work" || status=$?
# doctor exits 1 when it has warnings (a low limit on this machine); 2+ or a signal is a bug.
test "$status" -le 1 || { echo "forge doctor failed with status $status" >&2; exit 1; }

echo "== C consumer against the extracted libforge-dev"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
# shellcheck disable=SC2046
cc -std=c99 -Wall -Wextra -Werror -o "$work/example" "$source/tests/capi/embed_example.c" \
  $(pkg-config --cflags --libs forge)
LD_LIBRARY_PATH="$libdir" "$work/example" "$source/tests/capi/embed_example.c" "$work/store"
echo "== apt-get install ./*.deb on a fresh Debian 12 root (mmdebstrap)"
sources=/etc/apt/sources.list.d/debian.sources
test -f "$sources" || sources=/etc/apt/sources.list
serve_dir=$work/serve
mkdir -p "$serve_dir"
blob_sha=2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824  # sha256("hello")
# The served store is bind-mounted from $serve_dir so the port file is read from outside.
# Hooks run in order; any failing command fails the bootstrap and this test.
mmdebstrap --mode=root --variant=apt --quiet \
  --aptopt='APT::Sandbox::User "root"' \
  --customize-hook='mkdir "$1/debs" "$1/srv/forge"' \
  --customize-hook="copy-in $* /debs" \
  --customize-hook='chroot "$1" sh -c "apt-get install -y -q /debs/*.deb > /debs/apt.log 2>&1 || { cat /debs/apt.log; exit 1; }"' \
  --customize-hook="mount --bind $serve_dir \"\$1/srv/forge\"" \
  --customize-hook='chroot "$1" forge --version' \
  --customize-hook='chroot "$1" sh -c "printf hello > /tmp/hello && forge hash /tmp/hello | grep -q '$blob_sha'"' \
  --customize-hook="copy-in $source/tests/capi/deb_agent_probe.sh /debs" \
  --customize-hook='chroot "$1" sh /debs/deb_agent_probe.sh' \
  --customize-hook='chroot "$1" sh -c "forge serve --dir /srv/forge/store --address 127.0.0.1 --http-port 0 --no-grpc --port-file /srv/forge/port > /srv/forge/serve.log 2>&1 & echo \$! > /srv/forge/pid"' \
  --customize-hook="$source/tests/capi/deb_serve_probe.sh $serve_dir $blob_sha" \
  --customize-hook='umount "$1/srv/forge"' \
  bookworm /dev/null "$sources" > "$work/mmdebstrap.log" 2>&1 ||
  { tail -40 "$work/mmdebstrap.log"; cat "$serve_dir/serve.log" 2>/dev/null; exit 1; }
grep -E '^forge [0-9]|in the fresh root' "$work/mmdebstrap.log"
echo "deb test: passed"
