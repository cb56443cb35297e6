#!/usr/bin/env bash
# Drives a real watchtrail server with the unmodified AWS CLI through the README's flows.
# Usage: scripts/cli-smoke.sh PATH/TO/watchtrail
set -euo pipefail
bin=${1:?usage: cli-smoke.sh PATH/TO/watchtrail}
work=$(mktemp -d)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# No credentials in the environment: the server generates them on first start and prints them once.
env -u WATCHTRAIL_ROOT_ACCESS_KEY_ID -u WATCHTRAIL_ROOT_SECRET_ACCESS_KEY \
  "$bin" serve --listen 127.0.0.1:0 --data "$work/data" >"$work/stdout" 2>"$work/stderr" &
server_pid=$!
for _ in $(seq 1 100); do grep -q "watchtrail listening on" "$work/stdout" 2>/dev/null && break; sleep 0.1; done
endpoint=$(sed -n 's/^watchtrail listening on //p' "$work/stdout")
[ -n "$endpoint" ] || { echo "server did not start"; cat "$work/stderr"; exit 1; }
eval "$(grep -E '^  export AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY)=' "$work/stdout")"
export AWS_DEFAULT_REGION=us-east-1 AWS_PAGER=""
[ "$(stat -c %a "$work/data/root-credentials.json")" = 600 ] || { echo "credentials file is not 0600"; exit 1; }
if grep -q "$AWS_SECRET_ACCESS_KEY" "$work/stderr"; then echo "the secret appeared in the server log"; exit 1; fi

passed=0; failed=0
check() { # check NAME EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then passed=$((passed+1)); echo "ok   $1"; else failed=$((failed+1)); echo "FAIL $1: expected [$2] got [$3]"; fi
}
logs() { aws --endpoint-url "$endpoint" logs "$@"; }

logs create-log-group --log-group-name /app/web
check "duplicate group is refused" "ResourceAlreadyExistsException" \
  "$(logs create-log-group --log-group-name /app/web 2>&1 | grep -o ResourceAlreadyExistsException | head -1)"
logs create-log-stream --log-group-name /app/web --log-stream-name i-1
now=$(($(date +%s) * 1000))
logs put-log-events --log-group-name /app/web --log-stream-name i-1 --log-events "[
  {\"timestamp\": $now, \"message\": \"{\\\"status\\\": 200, \\\"path\\\": \\\"/\\\"}\"},
  {\"timestamp\": $((now + 1)), \"message\": \"{\\\"status\\\": 503, \\\"path\\\": \\\"/api\\\"}\"},
  {\"timestamp\": $((now + 2)), \"message\": \"plain ERROR line\"}]" >/dev/null
check "filter-log-events JSON pattern" '{"status": 503, "path": "/api"}' \
  "$(logs filter-log-events --log-group-name /app/web --filter-pattern '{ $.status >= 500 }' --query 'events[0].message' --output text)"
check "filter-log-events term" "plain ERROR line" \
  "$(logs filter-log-events --log-group-name /app/web --filter-pattern 'ERROR' --query 'events[*].message' --output text)"
check "get-log-events from head" "3" \
  "$(logs get-log-events --log-group-name /app/web --log-stream-name i-1 --start-from-head --query 'length(events)' --output text)"
logs put-retention-policy --log-group-name /app/web --retention-in-days 14
check "retention shown" "14" \
  "$(logs describe-log-groups --log-group-name-prefix /app --query 'logGroups[0].retentionInDays' --output text)"
check "bad retention refused" "InvalidParameterException" \
  "$(logs put-retention-policy --log-group-name /app/web --retention-in-days 2 2>&1 | grep -o InvalidParameterException | head -1)"
for i in $(seq 1 12); do logs create-log-group --log-group-name "/page/$i"; done
check "CLI auto-pagination across pages" "12" \
  "$(logs describe-log-groups --log-group-name-prefix /page --page-size 5 --query 'logGroups[*].logGroupName' --output text | wc -w)"
logs tag-log-group --log-group-name /app/web --tags team=sre
check "tags" "sre" "$(logs list-tags-log-group --log-group-name /app/web --query 'tags.team' --output text)"
check "unsigned request refused" "1" \
  "$(aws --no-sign-request --endpoint-url "$endpoint" logs describe-log-groups 2>&1 | grep -c MissingAuthenticationToken)"
check "wrong secret refused" "1" \
  "$(AWS_SECRET_ACCESS_KEY=wrong aws --endpoint-url "$endpoint" logs describe-log-groups 2>&1 | grep -c InvalidSignatureException)"
logs delete-log-group --log-group-name /app/web
check "deleted group is gone" "ResourceNotFoundException" \
  "$(logs delete-log-group --log-group-name /app/web 2>&1 | grep -o ResourceNotFoundException | head -1)"

echo "cli-smoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
