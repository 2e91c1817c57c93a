#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls exactly this script).
# Formatting and lints first (cheap, fail fast), then every test in the
# workspace: unit tests, the integration binary (including the conformance
# corpus in ../shared when it is present, and the Kafka tests against a
# broker this script starts) and doc tests.
#
# The Kafka tests need a Kafka-protocol broker: this script installs and
# starts one with scripts/kafka-broker.sh on a free 127.0.0.1 port, and
# stops it (by PID) when it exits, whether the tests pass or fail.
# SPATE_KAFKA_REQUIRED=1 makes those tests fail, not skip, if it is gone.
#
# The API tests (tests/it/api.rs) drive `spate serve` with boto3 and the
# AWS CLI from PyPI: scripts/aws-clients.sh makes their virtual environment
# under target/ once, and SPATE_API_CLIENTS_REQUIRED=1 makes those tests
# fail, not skip, without it.
#
# The console's GraphQL tests (tests/it/console.rs) drive `spate serve` and
# `spate demo` with the `gql` client from PyPI: scripts/graphql-clients.sh
# makes its virtual environment under target/ once, and
# SPATE_GRAPHQL_CLIENTS_REQUIRED=1 makes those tests fail, not skip,
# without it.
#
# The monitoring tests (tests/it/prometheus.rs) need Prometheus and
# promtool: scripts/prometheus.sh installs Debian's package if missing (the
# test starts its own server), and SPATE_PROMETHEUS_REQUIRED=1 makes those
# tests fail, not skip, without them.
#
# The console page tests (tests/it/console_page.rs) run the graph layout's
# unit tests with Node and the page in headless Chromium with Playwright:
# scripts/browser.sh installs Debian's chromium if missing and
# playwright-core from npm under target/ once, and
# SPATE_BROWSER_REQUIRED=1 makes those tests fail, not skip, without them.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== Kafka broker for the integration tests"
KAFKA_PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export KAFKA_PORT
stop_broker() { scripts/kafka-broker.sh stop || true; }
trap stop_broker EXIT
SPATE_KAFKA_BROKER_PID="$(scripts/kafka-broker.sh start)"
export SPATE_KAFKA_BROKER_PID
export SPATE_KAFKA_BOOTSTRAP="127.0.0.1:$KAFKA_PORT"
export SPATE_KAFKA_REQUIRED=1

echo "== boto3 and the AWS CLI for the API tests"
SPATE_AWS_CLIENTS="$(scripts/aws-clients.sh)"
export SPATE_AWS_CLIENTS
export SPATE_API_CLIENTS_REQUIRED=1

echo "== gql for the console's GraphQL tests"
SPATE_GRAPHQL_CLIENTS="$(scripts/graphql-clients.sh)"
export SPATE_GRAPHQL_CLIENTS
export SPATE_GRAPHQL_CLIENTS_REQUIRED=1

echo "== Prometheus for the monitoring tests"
scripts/prometheus.sh install
export SPATE_PROMETHEUS_REQUIRED=1

echo "== Chromium and Playwright for the console tests"
SPATE_BROWSER="$(scripts/browser.sh)"
export SPATE_BROWSER
export SPATE_BROWSER_REQUIRED=1

echo "== cargo test"
cargo test --workspace --locked
