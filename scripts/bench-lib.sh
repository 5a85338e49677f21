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

# tm_bench_metrics_scrape FILE: every instance's /metrics (TM_INSTANCE_<i>_URL of cluster.env, in
# the environment) appended into FILE, for tm_bench_stage_quantiles.
tm_bench_metrics_scrape() {
  local file=$1 i v ids
  : >"$file"
  read -r -a ids <<<"${TM_CLUSTER_MEMBERS:-$(seq -s ' ' 1 "${TM_CLUSTER_INSTANCES:-3}")}"
  for i in "${ids[@]}"; do
    v=TM_INSTANCE_${i}_URL
    [[ -n "${!v:-}" ]] && curl -fsS --max-time 5 "${!v}/metrics" >>"$file" 2>/dev/null
  done
  return 0
}

# tm_bench_stage_quantiles BEFORE AFTER: for the write path's stages (group_commit_stage_ms) and
# the server-side delivery time (message_delivery_time_ms) of the instances together between two
# scrapes, prints one line per series: "NAME p50 p95 p99 count", each quantile as the upper bound
# of its histogram bucket (the buckets are 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250 ... ms).
tm_bench_stage_quantiles() {
  awk '
    function key(line,   s) {
      if (match(line, /stage="[a-z_]+"/)) return substr(line, RSTART + 7, RLENGTH - 8)
      return "delivery"
    }
    /^(group_commit_stage_ms|message_delivery_time_ms)_bucket/ {
      k = key($0); match($0, /le="[^"]+"/); le = substr($0, RSTART + 4, RLENGTH - 5)
      v = $NF + 0
      if (FILENAME == ARGV[1]) before[k, le] += v; else { after[k, le] += v; les[le] = 1; keys[k] = 1 }
    }
    END {
      n = 0
      for (le in les) if (le != "+Inf") bounds[++n] = le + 0
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (bounds[j] < bounds[i]) { t = bounds[i]; bounds[i] = bounds[j]; bounds[j] = t }
      split("queue pool_wait database return cache delivery", order, " ")
      for (o = 1; o <= 6; o++) {
        k = order[o]; if (!(k in keys)) continue
        total = after[k, "+Inf"] - before[k, "+Inf"]
        if (total <= 0) { print k, "-", "-", "-", 0; continue }
        split("0.5 0.95 0.99", qs, " "); line = k
        for (q = 1; q <= 3; q++) {
          found = ">" bounds[n]
          for (i = 1; i <= n; i++) {
            le = bounds[i]; c = 0
            for (l in les) if (l != "+Inf" && l + 0 == le) c = after[k, l] - before[k, l]
            if (c >= qs[q] * total) { found = le; break }
          }
          line = line " " found
        }
        print line, total
      }
    }' "$1" "$2"
}

# tm_bench_pg_waits_start URL FILE: samples every 50 ms what PostgreSQL's active client backends
# wait on (pg_stat_activity: wait_event_type:wait_event, "CPU" for none) into FILE, one line per
# backend and sample, until tm_bench_pg_waits_stop. Sets tm_bench_pg_waits_pid.
tm_bench_pg_waits_start() {
  local url=$1 file=$2
  : >"$file"
  (
    while :; do
      psql -XAtq "$url" -c "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') FROM pg_stat_activity \
        WHERE state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid()" >>"$file" 2>/dev/null
      sleep 0.05
    done
  ) &
  tm_bench_pg_waits_pid=$!
}
tm_bench_pg_waits_stop() {
  [[ -n "${tm_bench_pg_waits_pid:-}" ]] && kill "$tm_bench_pg_waits_pid" 2>/dev/null
  wait "${tm_bench_pg_waits_pid:-}" 2>/dev/null || true
  tm_bench_pg_waits_pid=""
}

# tm_bench_pg_waits_summary FILE: "lock% wal% cpu% other% samples" over the samples of FILE (Lock:*,
# IO:WAL* and LWLock:WAL*, CPU, the rest).
tm_bench_pg_waits_summary() {
  awk '{ n++ } /^Lock:/ { l++ } /^(IO:WAL|LWLock:WAL)/ { w++ } /^CPU$/ { c++ }
    END { if (!n) { print "- - - - 0"; exit }
          printf "%.0f %.0f %.0f %.0f %d\n", 100 * l / n, 100 * w / n, 100 * c / n, 100 * (n - l - w - c) / n, n }' "$1"
}
