#!/bin/sh
# The README's demo client, as scripts/demo runs it, on a smaller file: registers
# <bin dir>/dosvc.dll as the service, runs dosvc-demo.exe through the job API split over
# two processes (--create, then --finish by job id) and through the IDO API against the
# loopback test server (its address from the JSON file the fixture wrote), then the job
# API again in the in-process mode; and unregisters the DLL whatever happens. dosvc-demo
# checks the file's SHA-256 itself and exits non-zero on any failure.
#   demo_client.sh <wine-run> <bin dir> <server file>
set -eu

if [ $# -ne 3 ]; then
    echo "usage: $0 <wine-run> <bin dir> <server file>" >&2
    exit 2
fi
run=$1
bin=$2
server_file=$3
port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["http_port"])' "$server_file")
path="/gen/16m?seed=demo"
sha=$(python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())' \
      "http://127.0.0.1:$port/hash$path")
local_name='C:\users\Public\dosvc-demo-test.bin'

cd "$bin"
mode=
trap '"$run" regsvr32 /u /s $mode dosvc.dll >/dev/null 2>&1 || true' EXIT
url="http://127.0.0.1:$port$path"
status=0
ok() { echo "demo_client: $1: ok"; }
failed() { echo "demo_client: FAILED: $1"; status=1; }
clean() { "$run" cmd /c del "$local_name" >/dev/null 2>&1 || true; }

"$run" regsvr32 /s dosvc.dll
out=$("$run" dosvc-demo.exe --create "$url" "$local_name" | tr -d '\r') || failed "dosvc-demo --create"
job=$(printf '%s\n' "$out" | sed -n 's/^created job \({[^}]*}\).*/\1/p')
if [ -n "$job" ] && "$run" dosvc-demo.exe --finish "$job" "$local_name" "$sha"; then
    ok "dosvc-demo --create, exit, --finish $job in another process (service)"
else
    failed "dosvc-demo --finish '$job'"
fi
clean
if "$run" dosvc-demo.exe --ido "$url" "$local_name" "$sha"; then ok "dosvc-demo --ido (service)"; else failed "dosvc-demo --ido"; fi
clean
"$run" regsvr32 /u /s dosvc.dll || status=1

mode="/n /i:inproc"
# shellcheck disable=SC2086 # $mode is two arguments
"$run" regsvr32 /s $mode dosvc.dll
if "$run" dosvc-demo.exe "$url" "$local_name" "$sha"; then ok "dosvc-demo (in-process)"; else failed "dosvc-demo (in-process)"; fi
clean
# shellcheck disable=SC2086
"$run" regsvr32 /u /s $mode dosvc.dll || status=1
exit $status
