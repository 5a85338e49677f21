# shellcheck shell=bash
# Shared by the benchmark scripts: the machine line and the section writer of docs/BENCHMARKS.md.

tm_bench_machine() {
  echo "$(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB, $(. /etc/os-release && echo "$PRETTY_NAME")"
}

# tm_bench_setup NAME BINARY...: the start the cluster benchmarks (scripts/cluster/bench-*.sh)
# share. TM_BENCH_OUT, the reports' directory, defaults to a new /tmp/tm-bench-NAME.XXXXXX; it is
# created and exported (a run of the script again inside its cluster writes to the same).
# tm_bench_runs is 0 with TM_BENCH_REPORT_ONLY=1 (no runs: the section from the reports already in
# TM_BENCH_OUT), else 1. jq (the tables) must be installed; with runs also psql and every BINARY
# (tm-load, the server, ...) must be there, else it says so and exits with status 2.
tm_bench_setup() {
  local name=$1 b tool tools=(jq)
  shift
  if [[ -z "${TM_BENCH_OUT:-}" ]]; then
    TM_BENCH_OUT=$(mktemp -d "/tmp/tm-bench-$name.XXXXXX")
  fi
  export TM_BENCH_OUT
  mkdir -p "$TM_BENCH_OUT"
  tm_bench_runs=1
  [[ "${TM_BENCH_REPORT_ONLY:-0}" == 1 ]] && tm_bench_runs=0
  if ((tm_bench_runs)); then
    tools+=(psql)
    for b in "$@"; do
      [[ -x "$b" ]] || {
        echo "bench-$name: no $b (build first: scripts/build.sh)" >&2
        exit 2
      }
    done
  fi
  for tool in "${tools[@]}"; do
    command -v "$tool" >/dev/null || {
      echo "bench-$name: needs $tool (scripts/setup.sh installs it)" >&2
      exit 2
    }
  done
}

# tm_bench_write_section DOC NAME TEXT: replaces the block between <!-- bench:NAME --> and
# <!-- /bench:NAME --> in DOC with TEXT (which carries both markers), or appends it.
tm_bench_write_section() {
  local doc=$1 name=$2 section=$3
  if grep -q "<!-- bench:$name -->" "$doc"; then
    awk -v name="$name" -v section="$section" '
      $0 == "<!-- bench:" name " -->" { print section; skip = 1; next }
      $0 == "<!-- /bench:" name " -->" { skip = 0; next }
      !skip { print }' "$doc" >"$doc.new" && mv "$doc.new" "$doc"
  else
    printf '\n%s\n' "$section" >>"$doc"
  fi
}

# tm_bench_wrk_report: prints wrk's done() hook that writes one line
# "RESULT <requests/s> <p50 ms> <p95 ms> <p99 ms> <errors> <requests>" (append it to a wrk script).
tm_bench_wrk_report() {
  cat <<'LUA'
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.0f %.3f %.3f %.3f %d %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.requests))
end
LUA
}

# tm_bench_pid_args: tm-load's --server-pid arguments for the cluster's instances and --proxy-pid
# for nginx's workers, one word a line (mapfile -t into an array), from cluster.env's variables
# (TM_CLUSTER_MEMBERS or TM_CLUSTER_INSTANCES, TM_INSTANCE_<i>_PID, TM_NGINX_PID) in the
# environment. tm-load then reports their CPU seconds per unit of work apart.
tm_bench_pid_args() {
  local i v p ids
  read -r -a ids <<<"${TM_CLUSTER_MEMBERS:-$(seq -s ' ' 1 "${TM_CLUSTER_INSTANCES:-3}")}"
  for i in "${ids[@]}"; do
    v=TM_INSTANCE_${i}_PID
    [[ -n "${!v:-}" ]] && printf -- '--server-pid\n%s\n' "${!v}"
  done
  if [[ -n "${TM_NGINX_PID:-}" ]]; then
    for p in $(pgrep -P "$TM_NGINX_PID" 2>/dev/null); do printf -- '--proxy-pid\n%s\n' "$p"; done
  fi
  return 0
}

# jq definitions for the cost columns of the bench tables (prefix a jq program with them):
# tm_cost_msg and tm_cost_del on a tm-load JSON report give the CPU seconds of the instances per
# 1,000 messages sent and per 100,000 deliveries received over the measured window, followed by
# nginx's workers' after " / " when they were sampled; "-" where unknown or incomplete (a process
# killed or restarted in the window).
# shellcheck disable=SC2016,SC2034 # jq's own $variables; used by the scripts that source this file
TM_BENCH_JQ_COST='
def tm_cost_fig(c; k): if c == null or (c.complete == false) or c[k] == null then "-" else (c[k] * 1000 | round / 1000 | tostring) end;
def tm_cost(k): (.cost // {}) as $c | tm_cost_fig($c.servers; k) + (if (.proxies // []) != [] then " / " + tm_cost_fig($c.proxies; k) else "" end);
def tm_cost_msg: tm_cost("per1000Messages");
def tm_cost_del: tm_cost("per100000Deliveries");
'
# The two columns' headers and a sentence that explains them, for the tables and sections.
# shellcheck disable=SC2034 # used by the scripts that source this file
TM_BENCH_COST_HEADERS='CPU s per 1,000 msg: instances / nginx | CPU s per 100,000 deliveries: instances / nginx'
# shellcheck disable=SC2034 # used by the scripts that source this file
TM_BENCH_COST_NOTE='CPU cost: the CPU seconds of the three instances together (then of the nginx workers together) over the measured window, per 1,000 messages sent and per 100,000 deliveries received in it ("-": unknown, or a process was killed or restarted in the window).'
