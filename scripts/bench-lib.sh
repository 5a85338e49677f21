# shellcheck shell=bash
# Shared by the benchmark scripts: the machine line and the section writer of docs/BENCHMARKS.md.

tm_bench_machine() {
  echo "$(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB, $(. /etc/os-release && echo "$PRETTY_NAME")"
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
