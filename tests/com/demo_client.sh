#!/bin/sh
# The README's demo client, as scripts/demo runs it, on a smaller file: registers
# <bin dir>/dosvc.dll, runs dosvc-demo.exe through the job API and through the IDO API
# against the loopback test server (its address from the JSON file the fixture wrote), and
# unregisters the DLL whatever happens. dosvc-demo checks the file's SHA-256 itself and
# exits non-zero on any failure.
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
"$run" regsvr32 /s /n /i:inproc dosvc.dll
status=0
for api in "" --ido; do
    # shellcheck disable=SC2086 # an empty $api is no argument
    if "$run" dosvc-demo.exe $api "http://127.0.0.1:$port$path" "$local_name" "$sha"; then
        echo "demo_client: dosvc-demo ${api:-(job API)}: ok"
    else
        echo "demo_client: FAILED: dosvc-demo ${api:-(job API)}"
        status=1
    fi
    "$run" cmd /c del "$local_name" >/dev/null 2>&1 || true
done
"$run" regsvr32 /u /s /n /i:inproc dosvc.dll || status=1
exit $status
