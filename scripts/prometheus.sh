#!/usr/bin/env bash
# A Prometheus server on 127.0.0.1 for Spate's monitoring tests, from
# Debian's `prometheus` package, run as our own process (never the Debian
# service).
#
#   scripts/prometheus.sh install   install prometheus and promtool if missing,
#                                   and keep the Debian service stopped and
#                                   disabled
#   scripts/prometheus.sh start     install if needed, write a configuration,
#                                   start, wait until ready, print the PID on
#                                   stdout
#   scripts/prometheus.sh stop      stop the server named in the PID file (by PID)
#   scripts/prometheus.sh status    exit 0 if that server is alive and listening
#   scripts/prometheus.sh pid       print the running server's PID
#
# Environment:
#   PROMETHEUS_PORT      port on 127.0.0.1 (default 9090)
#   PROMETHEUS_TARGETS   comma-separated host:port list to scrape as job
#                        "spate" (default 127.0.0.1:9464, the admin server's
#                        default address)
#   PROMETHEUS_SCRAPE_INTERVAL   scrape and rule evaluation interval
#                        (default 1s)
#   PROMETHEUS_RULES     rule files to load, space-separated (default:
#                        grafana/prometheus/rules/*.yml of this repository)
#   PROMETHEUS_DIR       configuration, data, log and PID file
#                        (default target/prometheus-<port>; its data/ is
#                        emptied at each start)
#   PROMETHEUS_WAIT_S    seconds to wait for readiness (default 30)
#
# `start` refuses a port another process already holds, so a test never
# queries a stale server by mistake.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
host=127.0.0.1
port="${PROMETHEUS_PORT:-9090}"
targets="${PROMETHEUS_TARGETS:-127.0.0.1:9464}"
interval="${PROMETHEUS_SCRAPE_INTERVAL:-1s}"
dir="${PROMETHEUS_DIR:-$repo/target/prometheus-$port}"
wait_s="${PROMETHEUS_WAIT_S:-30}"
pid_file="$dir/prometheus.pid"
log_file="$dir/prometheus.log"
config_file="$dir/prometheus.yml"

say() { echo "prometheus: $*" >&2; }

listening() { (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; }

# Debian starts and enables the service on installation (unless a
# policy-rc.d forbids it); it would hold port 9090 and scrape on its own.
quiet_debian_service() {
  local sudo=("$@")
  if command -v systemctl >/dev/null; then
    local now=()
    [[ -d /run/systemd/system ]] && now=(--now)
    "${sudo[@]}" systemctl disable "${now[@]}" prometheus >/dev/null 2>&1 || true
  fi
  if [[ -x /etc/init.d/prometheus ]]; then
    "${sudo[@]}" /etc/init.d/prometheus stop >/dev/null 2>&1 || true
    "${sudo[@]}" update-rc.d prometheus disable >/dev/null 2>&1 || true
  fi
}

install_prometheus() {
  if command -v prometheus >/dev/null && command -v promtool >/dev/null; then
    return 0
  fi
  if ! command -v apt-get >/dev/null; then
    say "prometheus and promtool are missing and there is no apt-get; install Prometheus 2.x and put both on PATH"
    return 1
  fi
  local sudo=()
  [[ "$(id -u)" == 0 ]] || sudo=(sudo)
  local t0=$SECONDS
  # A policy-rc.d answering 101 keeps the service from starting while the
  # package installs; an existing one is left as it is.
  local policy=/usr/sbin/policy-rc.d added_policy=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod 0755 "$policy"
    added_policy=1
  fi
  # Without a current package list the first attempt fails; update, retry.
  local status=0
  if ! "${sudo[@]}" apt-get install -y --no-install-recommends prometheus >&2; then
    { "${sudo[@]}" apt-get update >&2 &&
      "${sudo[@]}" apt-get install -y --no-install-recommends prometheus >&2; } || status=$?
  fi
  ((added_policy)) && "${sudo[@]}" rm -f "$policy"
  ((status == 0)) || return "$status"
  quiet_debian_service "${sudo[@]}"
  say "installed $(prometheus --version 2>&1 | head -n 1) in $((SECONDS - t0)) s"
}

alive_pid() {
  [[ -f "$pid_file" ]] || return 1
  local pid
  pid="$(<"$pid_file")"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# The configuration: one job, "spate", scraping every target at the given
# interval, and the rule files evaluated at the same interval.
write_config() {
  local rules=() rule
  if [[ -n "${PROMETHEUS_RULES:-}" ]]; then
    read -r -a rules <<<"$PROMETHEUS_RULES"
  else
    rules=("$repo"/grafana/prometheus/rules/*.yml)
  fi
  {
    echo "global:"
    echo "  scrape_interval: $interval"
    echo "  evaluation_interval: $interval"
    echo "rule_files:"
    for rule in "${rules[@]}"; do
      echo "  - \"$rule\""
    done
    echo "scrape_configs:"
    echo "  - job_name: spate"
    echo "    static_configs:"
    echo "      - targets:"
    local target
    IFS=, read -r -a list <<<"$targets"
    for target in "${list[@]}"; do
      echo "          - \"$target\""
    done
  } >"$config_file"
}

ready() {
  local answer
  answer="$( (exec 3<>"/dev/tcp/$host/$port" &&
    printf 'GET /-/ready HTTP/1.0\r\nHost: %s\r\n\r\n' "$host:$port" >&3 &&
    head -n 1 <&3) 2>/dev/null)" || return 1
  [[ "$answer" == *" 200 "* ]]
}

start() {
  install_prometheus
  local pid
  if pid="$(alive_pid)" && listening; then
    echo "$pid"
    return 0
  fi
  if listening; then
    say "$host:$port is held by another process; choose another PROMETHEUS_PORT"
    return 1
  fi
  mkdir -p "$dir"
  rm -rf "$dir/data"
  write_config
  if ! promtool check config "$config_file" >"$dir/check.log" 2>&1; then
    say "promtool refuses the configuration $config_file:"
    cat "$dir/check.log" >&2
    return 1
  fi
  # Its own session: a Ctrl-C in the calling terminal does not reach it.
  setsid prometheus \
    --config.file="$config_file" \
    --storage.tsdb.path="$dir/data" \
    --web.listen-address="$host:$port" \
    --log.level=warn \
    >"$log_file" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$pid_file"
  local deadline=$((SECONDS + wait_s))
  until ready; do
    if ! kill -0 "$pid" 2>/dev/null; then
      say "prometheus exited while starting; its log ends with:"
      tail -n 20 "$log_file" >&2
      rm -f "$pid_file"
      return 1
    fi
    if ((SECONDS >= deadline)); then
      say "prometheus not ready on $host:$port after ${wait_s} s"
      kill "$pid" 2>/dev/null || true
      rm -f "$pid_file"
      return 1
    fi
    sleep 0.1
  done
  say "ready on $host:$port scraping $targets every $interval, PID $pid (log: $log_file)"
  echo "$pid"
}

stop() {
  local pid
  if pid="$(alive_pid)"; then
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
  install) install_prometheus ;;
  start) start ;;
  stop) stop ;;
  status) alive_pid >/dev/null && listening ;;
  pid) alive_pid ;;
  *)
    echo "usage: $0 install|start|stop|status|pid" >&2
    exit 2
    ;;
esac
