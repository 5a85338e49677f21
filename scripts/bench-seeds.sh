#!/usr/bin/env bash
# bench-seeds.sh: the seed timings of issue 18, against a durable PostgreSQL (fsync,
# synchronous_commit and full_page_writes on; TM_PG_DURABLE=0 for the fast settings) and SQLite
# in its stated synchronous mode, and rewrites their sections of docs/BENCHMARKS.md:
#   seeds-coalescing  bench_coalescing: TM_BENCH_CLIENTS (200) clients at one cold key,
#                     --cache-coalesce 0 then 1 on one server build and database
#   seeds-batch       bench_storage batchInsertForms: 1,000 messages per transaction, each form
#   seeds-groupcommit bench_storage groupCommitBatches: TM_BENCH_GC_BATCHES (2,000) batches of
#                     TM_BENCH_GC_MESSAGES (4) messages in as many rooms, as group commit sends
#                     them under load: latency, statements and database CPU per batch
#   seeds-search      bench_storage search: two-term searches over TM_BENCH_SEARCH_ROWS (1,000,000)
#                     messages, p50/p95/max and the plans
# Builds first (scripts/build.sh) unless TM_BENCH_SKIP_BUILD=1. TM_BENCH_SEEDS picks sections
# (default "coalescing batch groupcommit search"). Figures are also printed. TM_BENCH_NOTE: what
# else ran on the machine meanwhile, written after the machine in each section.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench-lib.sh
source "$root/scripts/bench-lib.sh"
build=${TM_BUILD_DIR:-$root/build}
if [[ "${TM_BENCH_SKIP_BUILD:-0}" != 1 ]]; then
  log=$(mktemp)
  if ! "$root/scripts/build.sh" -DTM_BUILD_BENCHMARKS=ON >"$log" 2>&1; then
    echo "bench-seeds: build failed:" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
  rm -f "$log"
fi
export TM_PG_DURABLE=${TM_PG_DURABLE:-1}
export TM_BENCH_CLIENTS=${TM_BENCH_CLIENTS:-200} TM_BENCH_ROUNDS=${TM_BENCH_ROUNDS:-10}
export TM_BENCH_BATCHES=${TM_BENCH_BATCHES:-20}
export TM_BENCH_GC_BATCHES=${TM_BENCH_GC_BATCHES:-2000} TM_BENCH_GC_MESSAGES=${TM_BENCH_GC_MESSAGES:-4}
export TM_BENCH_SEARCH_ROWS=${TM_BENCH_SEARCH_ROWS:-1000000} TM_BENCH_SEARCH_QUERIES=${TM_BENCH_SEARCH_QUERIES:-200}
export QTEST_FUNCTION_TIMEOUT=${QTEST_FUNCTION_TIMEOUT:-7200000}
machine="$(tm_bench_machine)${TM_BENCH_NOTE:+, $TM_BENCH_NOTE} (figures in one table come from one run: compare within it)"
date=$(date -u +%Y-%m-%d)
durable=$([[ "$TM_PG_DURABLE" == 1 ]] && echo "durable" || echo "fast (not crash-safe)")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

run() { # run NAME ARGS...: the bench under fresh services, its output in $out/NAME
  local name=$1
  shift
  echo "bench-seeds: $name $*"
  if ! "$root/scripts/with-services.sh" "$build/tests/bench/$name" "$@" >"$out/$name" 2>&1; then
    echo "bench-seeds: $name failed; its output:" >&2
    cat "$out/$name" >&2
    exit 1
  fi
  grep -E '^(FIGURE|PLAN|  )' "$out/$name" || true
}

want() { [[ " ${TM_BENCH_SEEDS:-coalescing batch groupcommit search} " == *" $1 "* ]]; }

if want coalescing; then
  run bench_coalescing
  rows=$(sed -n 's/^FIGURE | //p' "$out/bench_coalescing" | sed 's/^/| /')
  tm_bench_write_section "$root/docs/BENCHMARKS.md" seeds-coalescing "<!-- bench:seeds-coalescing -->
### Request coalescing: $TM_BENCH_CLIENTS clients at one cold key

Command: \`TM_BENCH_CLIENTS=$TM_BENCH_CLIENTS TM_BENCH_ROUNDS=$TM_BENCH_ROUNDS scripts/bench-seeds.sh\`
Machine: $machine. Date: $date. PostgreSQL $durable, one instance, in-process cache.

Each round a message makes the room's latest page stale, then $TM_BENCH_CLIENTS keep-alive
connections (20 members of the room) ask for it at once; the counts are the server's own
(\`database_query_duration_seconds_count\` before and after the burst): computations of the page
(its member query) and every statement. Off and on are two servers (\`--cache-coalesce 0|1\`) of
one build on one database, one after the other.

| coalescing | clients | rounds | computations per burst (mean) | (max) | statements per burst (mean) | coalesced per burst (mean) | burst wall ms (mean) | (max) |
|---|---|---|---|---|---|---|---|---|
$rows
<!-- /bench:seeds-coalescing -->"
fi

if want batch; then
  run bench_storage batchInsertForms
  rows=$(sed -n 's/^FIGURE batch | //p' "$out/bench_storage" | sed 's/^/| /')
  tm_bench_write_section "$root/docs/BENCHMARKS.md" seeds-batch "<!-- bench:seeds-batch -->
### Batch insert: 1,000 messages in one transaction

Command: \`TM_BENCH_BATCHES=$TM_BENCH_BATCHES scripts/bench-seeds.sh\`
Machine: $machine. Date: $date. PostgreSQL $durable (settings per row, as the database reported
them); SQLite in WAL at the synchronous mode of the row (the server opens it at NORMAL).

\`server\` is the group-commit path (\`store::insertMessages\`: room locks, memberships,
idempotency by clientId, seqs, the rows and their channel events, RETURNING the rows); the other
forms insert the message rows alone (and move the room's last seq): \`multirow\` one
\`INSERT ... VALUES\` of 1,000 rows (SQLite: chunks of 256/64/16/4/1), \`unnest\` one INSERT of
five array parameters, \`copy\` \`COPY messages FROM STDIN\` through libpq (\`sql::pgCopy\`). Each
time is one batch from BEGIN to COMMIT (the fsync included), after a warm-up batch.

| back end | form | durability | batches | p50 ms | mean ms | p95 ms | max ms |
|---|---|---|---|---|---|---|---|
$rows
<!-- /bench:seeds-batch -->"
fi

if want groupcommit; then
  run bench_storage groupCommitBatches
  rows=$(sed -n 's/^FIGURE groupcommit | //p' "$out/bench_storage" | sed 's/^/| /')
  tm_bench_write_section "$root/docs/BENCHMARKS.md" seeds-groupcommit "<!-- bench:seeds-groupcommit -->
### Group-commit batches: small batches as the server writes them under load

Command: \`TM_BENCH_GC_BATCHES=$TM_BENCH_GC_BATCHES TM_BENCH_GC_MESSAGES=$TM_BENCH_GC_MESSAGES scripts/bench-seeds.sh\`
Machine: $machine. Date: $date. PostgreSQL $durable (settings per row, as the database reported
them); SQLite in WAL at the server's synchronous mode.

Under load the WebSocket write path commits many small batches rather than one of 1,000
messages: each batch here is $TM_BENCH_GC_MESSAGES messages, each in another of 200 rooms, with
client ids, through \`store::insertMessages\` on one connection, timed from BEGIN to COMMIT (the
fsync included) after 20 warm-up batches. Statements: those \`sql::run\` executed per batch
(BEGIN and COMMIT not counted). Database CPU: the PostgreSQL backend serving the connection, from
its \`/proc/<pid>/stat\`; client CPU: the calling thread (the driver's side).

| back end | durability | batches | messages per batch | p50 ms | mean ms | p95 ms | max ms | statements per batch | database CPU ms per batch | client CPU ms per batch |
|---|---|---|---|---|---|---|---|---|---|---|
$rows
<!-- /bench:seeds-groupcommit -->"
fi

if want search; then
  run bench_storage search
  rows=$(sed -n 's/^FIGURE search | //p' "$out/bench_storage" | sed 's/^/| /')
  plans=$(sed -n '/^PLAN /,$p' "$out/bench_storage" | grep -E '^(PLAN|  )' || true)
  tm_bench_write_section "$root/docs/BENCHMARKS.md" seeds-search "<!-- bench:seeds-search -->
### Search: two-term queries over $TM_BENCH_SEARCH_ROWS messages

Command: \`TM_BENCH_SEARCH_ROWS=$TM_BENCH_SEARCH_ROWS TM_BENCH_SEARCH_QUERIES=$TM_BENCH_SEARCH_QUERIES scripts/bench-seeds.sh\`
Machine: $machine. Date: $date.

$TM_BENCH_SEARCH_ROWS messages of 6-12 words in 100 rooms, the searching user a member of 50 of
them; words drawn from 10,000 with probability about 1/rank (the commonest is in about half the
messages), the queries' two terms drawn the same way. Each query is \`store::search\` as
\`GET /api/v1/search\` runs it (messages and tasks, 50 hits). Seeded with COPY (PostgreSQL, GIN
index built after) or one transaction (SQLite, FTS5 rebuilt after).

| back end | durability | messages | queries | p50 ms | p95 ms | max ms | mean ms | message hits per query | seed s |
|---|---|---|---|---|---|---|---|---|---|
$rows

The message query's plan for the slowest query of the run and for the two commonest words:

\`\`\`
$plans
\`\`\`
<!-- /bench:seeds-search -->"
fi
