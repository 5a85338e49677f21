#!/usr/bin/env bash
# render-conf.sh: nginx configuration for TaskMaster from the templates beside this script.
#
#   render-conf.sh --listen ADDR:PORT --upstream HOST:PORT [--upstream HOST:PORT ...] [options]
#       prints the http-context part (taskmaster.conf.template filled in), e.g. for
#       /etc/nginx/conf.d/taskmaster.conf
#   render-conf.sh --standalone DIR --listen ... --upstream ... [options]
#       writes DIR/taskmaster.conf and DIR/nginx.conf (nginx-standalone.conf.template: pid, logs
#       and temporary files under DIR), to run as `nginx -p DIR -c DIR/nginx.conf -e DIR/error.log`
#
# Options:
#   --access-log PATH|off   access log file (JSON lines); default /var/log/nginx/taskmaster.access.log,
#                           DIR/access.log with --standalone
#   --max-fails N           failed attempts (within the fail timeout) that take an instance out of
#                           rotation (default 3)
#   --fail-timeout T        for how long (default 5s)
#   --tls-listen ADDR:PORT  also serve HTTPS with HTTP/2 there (and wss:// over HTTP/1.1), with
#   --tls-cert FILE         the certificate chain (PEM) and
#   --tls-key FILE          its private key (PEM); all three or none
#   --workers N             worker processes, standalone only (default 2)
#   --worker-connections N  per worker, standalone only (default 10240)
#   --client-header-timeout T  time for a client's whole request head (default 10s)
#   --client-body-timeout T    longest gap between two reads of a request body (default 10s)
#   --keepalive-timeout T      an idle client keep-alive connection is closed after it (default 65s)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
  exit 2
}

listen="" standalone="" access_log="" max_fails=3 fail_timeout=5s workers=2 worker_connections=10240
tls_listen="" tls_cert="" tls_key=""
header_timeout=10s body_timeout=10s keepalive_timeout=65s
upstreams=()
while (($#)); do
  case $1 in
  --listen) listen=${2:?}; shift 2 ;;
  --upstream) upstreams+=("${2:?}"); shift 2 ;;
  --standalone) standalone=${2:?}; shift 2 ;;
  --access-log) access_log=${2:?}; shift 2 ;;
  --max-fails) max_fails=${2:?}; shift 2 ;;
  --fail-timeout) fail_timeout=${2:?}; shift 2 ;;
  --tls-listen) tls_listen=${2:?}; shift 2 ;;
  --tls-cert) tls_cert=${2:?}; shift 2 ;;
  --tls-key) tls_key=${2:?}; shift 2 ;;
  --workers) workers=${2:?}; shift 2 ;;
  --worker-connections) worker_connections=${2:?}; shift 2 ;;
  --client-header-timeout) header_timeout=${2:?}; shift 2 ;;
  --client-body-timeout) body_timeout=${2:?}; shift 2 ;;
  --keepalive-timeout) keepalive_timeout=${2:?}; shift 2 ;;
  -h | --help) usage ;;
  *) echo "render-conf: unknown argument '$1'" >&2; usage ;;
  esac
done
[[ -n "$listen" ]] || { echo "render-conf: --listen is required" >&2; exit 2; }
((${#upstreams[@]} > 0)) || { echo "render-conf: at least one --upstream is required" >&2; exit 2; }
host_port='^[][A-Za-z0-9.:_-]+:[0-9]+$'
for u in "${upstreams[@]}"; do
  [[ "$u" =~ $host_port ]] || { echo "render-conf: --upstream must be HOST:PORT, got '$u'" >&2; exit 2; }
done
time_re='^[0-9]+(ms|s|m)?$'
for t in "$header_timeout" "$body_timeout" "$keepalive_timeout"; do
  [[ "$t" =~ $time_re ]] || { echo "render-conf: bad time '$t' (like 10s, 500ms)" >&2; exit 2; }
done
listen_re='^[][A-Za-z0-9.:_*-]+$'
[[ "$listen" =~ $listen_re ]] || { echo "render-conf: bad --listen '$listen'" >&2; exit 2; }
if [[ -n "$tls_listen$tls_cert$tls_key" ]]; then
  [[ -n "$tls_listen" && -n "$tls_cert" && -n "$tls_key" ]] ||
    { echo "render-conf: --tls-listen, --tls-cert and --tls-key go together" >&2; exit 2; }
  [[ "$tls_listen" =~ $listen_re ]] || { echo "render-conf: bad --tls-listen '$tls_listen'" >&2; exit 2; }
  for f in "$tls_cert" "$tls_key"; do
    [[ -r "$f" ]] || { echo "render-conf: cannot read '$f'" >&2; exit 2; }
    [[ "$f" != *[[:space:]\;\{\}\'\"]* ]] || { echo "render-conf: unusable characters in '$f'" >&2; exit 2; }
  done
  tls_cert=$(cd "$(dirname "$tls_cert")" && pwd)/$(basename "$tls_cert")
  tls_key=$(cd "$(dirname "$tls_key")" && pwd)/$(basename "$tls_key")
  # HTTP/2 for REST over TLS (multiplexed requests on one connection). A WebSocket still upgrades
  # over HTTP/1.1: nginx 1.22 does not do WebSockets over HTTP/2 (RFC 8441), so clients negotiate
  # HTTP/1.1 for them (ALPN offers both). Modern protocols only; session cache shared by workers.
  tls_lines="    # TLS (render-conf.sh --tls-listen, --tls-cert, --tls-key): HTTPS with HTTP/2; wss:// upgrades
    # over HTTP/1.1 (nginx 1.22 has no WebSocket over HTTP/2, RFC 8441; clients fall back by ALPN).
    listen $tls_listen ssl http2;
    ssl_certificate $tls_cert;
    ssl_certificate_key $tls_key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers off;
    ssl_session_cache shared:taskmaster_tls:10m;
    ssl_session_timeout 1d;
    ssl_session_tickets off;"
else
  tls_lines="    # TLS: none (render-conf.sh --tls-listen ADDR:PORT --tls-cert FILE --tls-key FILE adds it)."
fi

if [[ -n "$standalone" ]]; then
  mkdir -p "$standalone"
  standalone=$(cd "$standalone" && pwd)
  : "${access_log:=$standalone/access.log}"
else
  : "${access_log:=/var/log/nginx/taskmaster.access.log}"
fi
if [[ "$access_log" == off ]]; then
  access_line="off"
else
  # Buffered: one write per 64 KiB or per second instead of one per request.
  access_line="$access_log tm_json buffer=64k flush=1s"
fi

servers=""
for u in "${upstreams[@]}"; do
  servers+="    server $u max_fails=$max_fails fail_timeout=$fail_timeout;"$'\n'
done
servers=${servers%$'\n'}

conf=$(<"$here/taskmaster.conf.template")
conf=${conf//@@LISTEN@@/$listen}
conf=${conf//@@ACCESS_LOG@@/$access_line}
conf=${conf//@@UPSTREAM_SERVERS@@/$servers}
conf=${conf//@@TLS@@/$tls_lines}
conf=${conf//@@CLIENT_HEADER_TIMEOUT@@/$header_timeout}
conf=${conf//@@CLIENT_BODY_TIMEOUT@@/$body_timeout}
conf=${conf//@@KEEPALIVE_TIMEOUT@@/$keepalive_timeout}

if [[ -z "$standalone" ]]; then
  printf '%s\n' "$conf"
  exit 0
fi

# Standalone: the workers need to write the logs and temporary files under DIR. As root nginx
# would switch its workers to 'nobody', who cannot; run them as root in this throwaway directory.
# As an ordinary user nginx cannot switch users at all and the directive would only warn.
if [[ $(id -u) -eq 0 ]]; then
  user_line="user root;"
else
  user_line="# (workers run as the user who starts nginx)"
fi
# Per worker: its connections (two per proxied WebSocket) plus log files; an ordinary user cannot go over the hard
# limit of open files.
nofile=$((worker_connections + 1024))
hard=$(ulimit -Hn)
if [[ $(id -u) -ne 0 && "$hard" != unlimited ]] && ((nofile > hard)); then nofile=$hard; fi

main=$(<"$here/nginx-standalone.conf.template")
main=${main//@@USER_LINE@@/$user_line}
main=${main//@@WORKERS@@/$workers}
main=${main//@@NOFILE@@/$nofile}
main=${main//@@WORKER_CONNECTIONS@@/$worker_connections}
main=${main//@@PREFIX@@/$standalone}

mkdir -p "$standalone/tmp"
printf '%s\n' "$conf" >"$standalone/taskmaster.conf"
printf '%s\n' "$main" >"$standalone/nginx.conf"
