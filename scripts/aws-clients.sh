#!/usr/bin/env bash
# Makes (once) a Python virtual environment with boto3 and the AWS CLI from
# PyPI, for the API tests (tests/api, driven by tests/it/api.rs), and prints
# its folder (absolute). It lives under target/ so `cargo clean` is the way to renew it;
# a second run reuses it and takes no network.
#
#   scripts/aws-clients.sh [DIR]      (default: target/aws-clients)
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-target/aws-clients}"
if [ -x "$dir/bin/python" ] && [ -x "$dir/bin/aws" ] \
    && "$dir/bin/python" -c 'import boto3' 2>/dev/null; then
    (cd "$dir" && pwd)
    exit 0
fi
rm -rf "$dir"
python3 -m venv "$dir" >&2
"$dir/bin/pip" install --quiet --disable-pip-version-check boto3 awscli >&2
(cd "$dir" && pwd)
