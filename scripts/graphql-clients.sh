#!/usr/bin/env bash
# Makes (once) a Python virtual environment with the `gql` GraphQL client
# from PyPI and its transports (requests for HTTP, websockets for
# subscriptions over graphql-transport-ws), for the console's GraphQL tests
# (tests/console, driven by tests/it/console.rs), and prints its folder
# (absolute). It lives under target/ so `cargo clean` is the way to renew
# it; a second run reuses it and takes no network.
#
#   scripts/graphql-clients.sh [DIR]      (default: target/graphql-clients)
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-target/graphql-clients}"
if [ -x "$dir/bin/python" ] \
    && "$dir/bin/python" -c 'import gql.transport.websockets, gql.transport.requests' 2>/dev/null; then
    (cd "$dir" && pwd)
    exit 0
fi
rm -rf "$dir"
python3 -m venv "$dir" >&2
"$dir/bin/pip" install --quiet --disable-pip-version-check 'gql[requests,websockets]>=3.5' >&2
(cd "$dir" && pwd)
