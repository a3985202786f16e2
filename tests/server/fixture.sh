#!/bin/sh
# fixture.sh start|stop <port-file>: the test server as a ctest fixture.
# start launches dosvc_test_server.py (HTTP and HTTPS) in the background, detached from
# ctest's output, and waits (bounded) for it to write its ports to <port-file>; the server
# stops by itself after --max-seconds should stop never come. stop asks it to shut down and
# waits for it to go. Every bound is scaled by DOSVC_TEST_TIME_SCALE, as the tests' are.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
file=$2

port_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$file" "$1"; }
# scaled N: N times DOSVC_TEST_TIME_SCALE (a positive number, else 1), rounded up.
scaled() {
    awk -v n="$1" -v s="${DOSVC_TEST_TIME_SCALE:-1}" \
        'BEGIN { if (s !~ /^[0-9]*\.?[0-9]+$/ || s + 0 <= 0) s = 1; x = n * s; print (x == int(x)) ? x : int(x) + 1 }'
}

case $1 in
start)
    rm -f "$file"
    nohup python3 "$here/dosvc_test_server.py" --https --max-seconds "$(scaled 1800)" --port-file "$file" \
        </dev/null >"$file.log" 2>&1 &
    i=0 tries=$(scaled 200)
    while [ ! -s "$file" ]; do
        i=$((i + 1))
        if [ $i -gt "$tries" ]; then echo "test server did not start:"; cat "$file.log"; exit 1; fi
        sleep 0.1
    done
    cat "$file" ;;
stop)
    [ -s "$file" ] || exit 0
    pid=$(port_of pid)
    python3 -c 'import sys, urllib.request; urllib.request.urlopen("http://127.0.0.1:%s/_control/shutdown" % sys.argv[1], timeout=float(sys.argv[2])).read()' \
        "$(port_of http_port)" "$(scaled 10)" >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
    i=0 tries=$(scaled 100)
    while kill -0 "$pid" 2>/dev/null && [ $i -lt "$tries" ]; do i=$((i + 1)); sleep 0.1; done
    rm -f "$file" ;;
*)
    echo "usage: $0 start|stop <port-file>" >&2
    exit 2 ;;
esac
