#!/usr/bin/env bash
# Headless Chromium and Playwright for the console's browser tests
# (tests/console, driven by tests/it/console.rs).
#
# Installs Debian's `chromium` package if it is missing (Playwright's own
# browser download is not used: it cannot be reached from every machine),
# makes (once) a folder with `playwright-core` from npm, and prints that
# folder (absolute) on stdout; what it did goes to stderr. Run the tests
# with NODE_PATH=<that folder>/node_modules and SPATE_CHROMIUM=<path>.
#
#   scripts/browser.sh [DIR]      (default: target/browser)
#
# Environment:
#   CHROMIUM            the browser binary (default: /usr/bin/chromium)
#   PLAYWRIGHT_VERSION  the playwright-core version from npm (default 1.65.1)
#
# A second run reuses both and takes no network. `cargo clean` renews the
# npm folder.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-target/browser}"
chromium="${CHROMIUM:-/usr/bin/chromium}"
version="${PLAYWRIGHT_VERSION:-1.65.1}"

say() { echo "browser: $*" >&2; }

if [[ ! -x "$chromium" ]]; then
  if ! command -v apt-get >/dev/null; then
    say "$chromium is missing and there is no apt-get; install Chromium and set CHROMIUM"
    exit 1
  fi
  sudo=()
  [[ "$(id -u)" == 0 ]] || sudo=(sudo)
  t0=$SECONDS
  # Without a current package list the first attempt fails; update, retry.
  if ! "${sudo[@]}" apt-get install -y --no-install-recommends chromium fonts-dejavu-core >&2; then
    "${sudo[@]}" apt-get update >&2
    "${sudo[@]}" apt-get install -y --no-install-recommends chromium fonts-dejavu-core >&2
  fi
  say "installed $("$chromium" --version 2>/dev/null | head -n 1) in $((SECONDS - t0)) s"
fi

module="$dir/node_modules/playwright-core/package.json"
if [[ -f "$module" ]] && grep -q "\"version\": \"$version\"" "$module"; then
  say "reusing playwright-core $version in $dir"
else
  mkdir -p "$dir"
  t0=$SECONDS
  # No browser download: the tests point Playwright at $chromium.
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$dir" --no-save --no-audit \
    --no-fund --loglevel=error "playwright-core@$version" >&2
  say "installed playwright-core $version in $dir in $((SECONDS - t0)) s"
fi
(cd "$dir" && pwd)
