#!/usr/bin/env bash
# bench-attachments.sh: attachments (docs/protocol.md section 6.8) on one instance on loopback, for
# both storages (SQLite with files under the data dir; PostgreSQL, durable as production runs it,
# with chunked rows):
# - "upload start": the time from an upload's request head being sent to the server's
#   `100 Continue` (every check passed: token, limits, name, type, rate, quota; the first body
#   byte is accepted from then on), over TM_BENCH_STARTS uploads of 64 KiB, p50 and p95;
# - upload and download throughput of one TM_BENCH_MIB MiB file (raw socket, body streamed from
#   memory in 256 KiB writes; the download read to the end and hashed);
# - PostgreSQL only: message delivery latency in busy rooms (tm-load: TM_BENCH_USERS users in rooms
#   of 50 at TM_BENCH_RATE msg/s for TM_BENCH_SECONDS s) without files moving, then the same with
#   TM_BENCH_MOVERS clients uploading and downloading 20 MiB files back to back all along, once
#   for each transfer budget of TM_BENCH_LIMITS (--attachment-mib-per-s; 0: unlimited); the p99
#   ratio of each against the run without files, in the same sitting. The throughput rows run
#   unlimited (the storage's own speed).
# Writes the section <!-- bench:attachments --> of docs/BENCHMARKS.md (TM_BENCH_DOC; "-" prints
# only) with the command, the machine, the date and PostgreSQL's durability settings, and prints it.
# Environment: TM_BUILD_DIR (build/), TM_BENCH_STARTS (200), TM_BENCH_MIB (200), TM_BENCH_USERS
# (400), TM_BENCH_RATE (200), TM_BENCH_SECONDS (20), TM_BENCH_MOVERS (2), TM_BENCH_LIMITS (the
# --attachment-mib-per-s of the runs with files moving, "0 16 32"), TM_BENCH_SERVER_BIN (the server).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TM_BUILD_DIR:-$root/build}
# shellcheck source=bench-lib.sh
source "$root/scripts/bench-lib.sh"
# shellcheck source=services.sh
source "$root/scripts/services.sh"
server_bin=${TM_BENCH_SERVER_BIN:-$build/server/taskmaster-server}
load=$build/tools/tm-load/tm-load
for b in "$server_bin" "$load"; do
  [[ -x "$b" ]] || {
    echo "bench-attachments: no $b (build first: cmake --build build --target taskmaster-server tm-load)" >&2
    exit 2
  }
done
starts=${TM_BENCH_STARTS:-200}
mib=${TM_BENCH_MIB:-200}
users=${TM_BENCH_USERS:-400}
rate=${TM_BENCH_RATE:-200}
seconds=${TM_BENCH_SECONDS:-20}
movers=${TM_BENCH_MOVERS:-2}
limits=${TM_BENCH_LIMITS:-0 16 32}
doc=${TM_BENCH_DOC:-$root/docs/BENCHMARKS.md}

work=$(mktemp -d /tmp/tm-bench-attachments.XXXXXX)
chmod 755 "$work"
server_pid=""
mover_pids=()
cleanup() {
  for p in "${mover_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  tm_pg_stop "$work/pg" || true
  rm -rf "$work"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# The raw HTTP client (python3: what QtNetwork would hide, `100 Continue`, is the measurement).
cat >"$work/client.py" <<'PY'
import hashlib, socket, statistics, sys, time

HOST = "127.0.0.1"

def head_end(sock, buf):
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise SystemExit("connection closed before an answer")
        buf += chunk
    i = buf.index(b"\r\n\r\n")
    return buf[:i].decode("latin-1"), buf[i + 4:]

def pattern(size):
    block = bytes((i * 31 + (i >> 12)) & 0xFF for i in range(256 * 1024))
    return block, size

def upload(port, token, size, expect):
    """Returns (seconds to 100 Continue or None, seconds to the answer, status, body)."""
    block, _ = pattern(size)
    s = socket.create_connection((HOST, port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    head = (f"POST /api/v1/uploads?filename=bench.bin HTTP/1.1\r\nHost: b\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/octet-stream\r\nContent-Length: {size}\r\n"
            + ("Expect: 100-continue\r\n" if expect else "") + "\r\n").encode()
    t0 = time.perf_counter()
    s.sendall(head)
    started = None
    rest = b""
    if expect:
        h, rest = head_end(s, b"")
        if not h.startswith("HTTP/1.1 100"):
            raise SystemExit("no 100 Continue: " + h.splitlines()[0])
        started = time.perf_counter() - t0
    sent = 0
    while sent < size:
        n = min(len(block), size - sent)
        s.sendall(block[:n])
        sent += n
    h, body = head_end(s, rest)
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    s.close()
    return started, time.perf_counter() - t0, int(h.split()[1]), body

def download(port, token, ident):
    s = socket.create_connection((HOST, port))
    t0 = time.perf_counter()
    s.sendall(f"GET /api/v1/attachments/{ident} HTTP/1.1\r\nHost: b\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
    h, first = head_end(s, b"")
    digest = hashlib.sha256(first)
    n = len(first)
    while True:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        digest.update(chunk)
        n += len(chunk)
    s.close()
    return time.perf_counter() - t0, int(h.split()[1]), n

def ident(body):
    import json
    return json.loads(body)["attachment"]["id"]

cmd, port, token = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if cmd == "start":
    n = int(sys.argv[4])
    times = []
    for _ in range(n):
        started, _, status, _ = upload(port, token, 64 * 1024, True)
        if status != 201:
            raise SystemExit(f"upload answered {status}")
        times.append(started * 1000)
    times.sort()
    print("START %.2f %.2f %d" % (statistics.median(times), times[int(0.95 * (len(times) - 1))], len(times)))
elif cmd == "move":
    size = int(sys.argv[4]) << 20
    _, took, status, body = upload(port, token, size, False)
    if status != 201:
        raise SystemExit(f"upload answered {status}")
    i = ident(body)
    dtook, dstatus, n = download(port, token, i)
    if dstatus != 200 or n != size:
        raise SystemExit(f"download answered {dstatus} with {n} bytes")
    print("MOVE %.1f %.1f" % (size / took / (1 << 20), size / dtook / (1 << 20)))
elif cmd == "churn":  # until killed: upload and download SIZE MiB back to back, a line per file to LOG
    size = int(sys.argv[4]) << 20
    with open(sys.argv[5], "a") as log:
        while True:
            _, _, status, body = upload(port, token, size, False)
            if status == 201:
                download(port, token, ident(body))
                log.write("moved\n")
                log.flush()
PY

start_server() { # args: extra server arguments; sets base, port
  port=$(tm_free_port)
  "$server_bin" --listen "127.0.0.1:$port" --data-dir "$work/data-$port" --rate-auth 0 --rate-api 0 \
    --rate-upload 0 --max-upload-mib "$((mib + 1))" --upload-quota-mib 1000000 \
    --max-connections-per-address 0 "$@" >"$work/server-$port.log" 2>&1 &
  server_pid=$!
  base="http://127.0.0.1:$port"
  for _ in $(seq 100); do curl -sf "$base/health" >/dev/null && return 0; sleep 0.1; done
  echo "bench-attachments: the server did not start" >&2
  cat "$work/server-$port.log" >&2
  return 1
}
stop_server() {
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
register() { # sets token
  token=$(curl -sf -X POST "$base/api/v1/auth/register" -H 'Content-Type: application/json' \
    -d "{\"username\":\"mover$RANDOM\",\"password\":\"password123\",\"displayName\":\"Mover\"}" |
    sed 's/.*"token":"\([^"]*\)".*/\1/')
}

rows=""
pg_settings="not run "
delivery=""
for backend in sqlite postgres; do
  extra=()
  if [[ $backend == postgres ]]; then
    tm_pg_start "$work/pg"
    extra=(--database-url "$TM_PG_URL")
    pg_settings=$(for s in fsync synchronous_commit full_page_writes; do
      printf '%s=%s ' "$s" "$(tm_pg_sql "$TM_PG_PORT" "SHOW $s")"
    done)
  fi
  start_server "${extra[@]}" --attachment-mib-per-s 0 # the storage's own speed
  register
  echo "bench-attachments: $backend: upload start" >&2
  python3 "$work/client.py" start "$port" "$token" 10 >/dev/null # warm-up: pool connections, caches
  read -r _ p50 p95 n < <(python3 "$work/client.py" start "$port" "$token" "$starts")
  echo "bench-attachments: $backend: $mib MiB up and down" >&2
  read -r _ up down < <(python3 "$work/client.py" move "$port" "$token" "$mib")
  rows+="| $backend | $p50 | $p95 | $n | $up | $down |"$'\n'

  stop_server

  if [[ $backend == postgres ]]; then
    # Delivery in busy rooms: without files moving, then with them at each transfer budget
    # (--attachment-mib-per-s; 0: none), each phase on a server of its own, one after the other.
    phases=(quiet)
    for l in $limits; do phases+=("files-$l"); done
    for phase in "${phases[@]}"; do
      echo "bench-attachments: delivery, $phase" >&2
      limit=()
      [[ $phase == files-* ]] && limit=(--attachment-mib-per-s "${phase#files-}")
      start_server "${extra[@]}" "${limit[@]}"
      : >"$work/moved-$phase"
      if [[ $phase == files-* ]]; then
        for _ in $(seq "$movers"); do
          register
          python3 "$work/client.py" churn "$port" "$token" 20 "$work/moved-$phase" &
          mover_pids+=($!)
        done
      fi
      began=$(date +%s.%N)
      "$load" --url "$base" --users "$users" --room-size 50 --rate "$rate" --duration "$seconds" --warmup 5 \
        --threads 1 --quiet --json "$work/load-$phase.json" --max-late-pct 5 >"$work/load-$phase.txt" 2>&1 || {
        echo "bench-attachments: tm-load ($phase) failed:" >&2
        tail -n 20 "$work/load-$phase.txt" >&2
        exit 1
      }
      for p in "${mover_pids[@]}"; do kill "$p" 2>/dev/null || true; done
      mover_pids=()
      # Files moved (up and down, 20 MiB each way) over the run, in MiB a second.
      awk -v n="$(wc -l <"$work/moved-$phase")" -v now="$(date +%s.%N)" -v began="$began" \
        'BEGIN { printf "%.1f\n", n * 40 / (now - began) }' >"$work/rate-$phase"
      stop_server
    done
    delivery=$(
      echo "| files moving | transfer budget | files MiB/s moved | delivered | lost | delivery p50 ms | p95 ms | p99 ms | ack p99 ms | p99 / none |"
      echo "|---|---|---|---|---|---|---|---|---|---|"
      for phase in "${phases[@]}"; do
        if [[ $phase == quiet ]]; then
          what="none"
          budget="-"
        else
          what="$movers clients, 20 MiB up and down back to back"
          budget="${phase#files-} MiB/s"
          [[ $budget == "0 MiB/s" ]] && budget="none (0)"
        fi
        jq -r --arg what "$what" --arg budget "$budget" --arg moved "$(cat "$work/rate-$phase")" \
          --slurpfile q "$work/load-quiet.json" '
          def ms: . * 10 | round / 10;
          "| \($what) | \($budget) | \($moved) | \(.events.delivered) | \(.events.lost) | \(.latencyMs.delivery.p50 | ms) | \(.latencyMs.delivery.p95 | ms) | \(.latencyMs.delivery.p99 | ms) | \(.latencyMs.ack.p99 | ms) | \((.latencyMs.delivery.p99 / $q[0].latencyMs.delivery.p99) * 100 | round / 100) |"' \
          "$work/load-$phase.json"
      done
    )
  fi
done

table="| storage | upload start p50 ms | p95 ms | uploads | upload MiB/s ($mib MiB) | download MiB/s |
|---|---|---|---|---|---|
${rows%$'\n'}"
section="<!-- bench:attachments -->
### Attachments: upload start, throughput, delivery while files move (one instance)

Written by \`scripts/bench-attachments.sh\` on $(date -u +%Y-%m-%d) ($(tm_bench_machine)); the
clients (python3 on raw sockets, tm-load) run on the same cores as the server. PostgreSQL:
${pg_settings% }. \"Upload start\": from the upload's head sent to the server's \`100 Continue\`
(every check passed, the body accepted from then on), $starts uploads of 64 KiB one after the
other. Throughput: one $mib MiB file up (to the \`201\`) and down (to the last byte), loopback,
without a transfer budget (\`--attachment-mib-per-s 0\`).

\`\`\`
TM_BENCH_STARTS=$starts TM_BENCH_MIB=$mib TM_BENCH_USERS=$users TM_BENCH_RATE=$rate TM_BENCH_SECONDS=$seconds TM_BENCH_MOVERS=$movers TM_BENCH_LIMITS=\"$limits\" scripts/bench-attachments.sh
\`\`\`

$table

Delivery in busy rooms on PostgreSQL (tm-load: $users users in rooms of 50, $rate msg/s for
$seconds s after 5 s of warm-up; each row a server of its own, one after the other) without files
moving, and with them under each transfer budget (\`--attachment-mib-per-s\`, default 16; the
throughput rows above run without one). \"Files MiB/s moved\": what the movers' uploads and
downloads together achieved during the run.

$delivery
<!-- /bench:attachments -->"
echo "$section"
if [[ "$doc" != "-" ]]; then
  tm_bench_write_section "$doc" attachments "$section"
  echo "bench-attachments: wrote the attachments section of $doc" >&2
fi
