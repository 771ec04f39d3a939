#!/usr/bin/env bash
# Make sure the browser tests have a Chromium and axe-core. Says plainly what it could not install.
# It never fails the run by itself: the tests that need a missing piece skip locally and FAIL
# under CI=true.
set -u
cd "$(dirname "$0")/.."

# axe-core, the accessibility engine the browser tests inject (tests/a11y.py reads these three
# pins from this file). The npm tarball is checked against its sha512 and the extracted file
# against its sha256; it lands in var/ (never committed) with its MPL-2.0 licence beside it.
AXE_VERSION=4.14.1
AXE_TARBALL_SHA512=FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==
AXE_SHA256=29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c
AXE_DIR=var/axe-core-$AXE_VERSION

install_chromium() {
  if [ -x /usr/bin/chromium ]; then
    echo "browser: /usr/bin/chromium present"
    return 0
  fi
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "browser: installing Debian's chromium (apt-get)"
    if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
      echo "browser: installed /usr/bin/chromium"
      return 0
    fi
    echo "browser: COULD NOT install Debian's chromium with apt-get" >&2
  else
    echo "browser: not root, trying Playwright's own Chromium download"
    if .venv/bin/playwright install chromium; then
      echo "browser: Playwright's Chromium installed"
      return 0
    fi
    echo "browser: COULD NOT install a browser (not root for apt-get, and Playwright's download failed)" >&2
  fi
  echo "browser: browser tests will be skipped locally and FAIL under CI=true" >&2
}

axe_present() {
  [ -f "$AXE_DIR/axe.min.js" ] && echo "$AXE_SHA256  $AXE_DIR/axe.min.js" | sha256sum --check --status
}

ensure_npm() {
  command -v npm >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "axe-core: installing Debian's npm (apt-get)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
    command -v npm >/dev/null 2>&1 && return 0
  fi
  echo "axe-core: COULD NOT find or install npm" >&2
  return 1
}

fetch_axe() {  # npm pack into a throwaway directory, check, extract two files into var/
  local work tarball sha512
  work=$(mktemp -d)
  tarball="$work/axe-core-$AXE_VERSION.tgz"
  if ! (cd "$work" && npm pack "axe-core@$AXE_VERSION" --silent >/dev/null); then
    echo "axe-core: COULD NOT download axe-core@$AXE_VERSION with npm pack" >&2
    rm -rf "$work"; return 1
  fi
  sha512=$(python3 -c 'import base64, hashlib, sys
print(base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "$tarball")
  if [ "$sha512" != "$AXE_TARBALL_SHA512" ]; then
    echo "axe-core: the downloaded tarball does not match the pinned sha512; not installed" >&2
    rm -rf "$work"; return 1
  fi
  tar -xzf "$tarball" -C "$work" package/axe.min.js package/LICENSE
  mkdir -p "$AXE_DIR"
  mv "$work/package/axe.min.js" "$work/package/LICENSE" "$AXE_DIR/"
  rm -rf "$work"
  if ! axe_present; then
    echo "axe-core: $AXE_DIR/axe.min.js does not match the pinned sha256; removed" >&2
    rm -f "$AXE_DIR/axe.min.js"; return 1
  fi
  echo "axe-core: installed $AXE_DIR/axe.min.js"
}

install_axe() {
  if axe_present; then
    echo "axe-core: $AXE_DIR/axe.min.js present"
    return 0
  fi
  if ensure_npm && fetch_axe; then
    return 0
  fi
  echo "axe-core: accessibility tests will be skipped locally and FAIL under CI=true" >&2
}

install_chromium
install_axe
exit 0
