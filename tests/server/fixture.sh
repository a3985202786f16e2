#!/bin/sh
# fixture.sh start|stop <port-file>: the test server as a ctest fixture.
# start launches dosvc_test_server.py (HTTP and HTTPS) in the background, detached from
# ctest's output, and waits (bounded) for it to write its ports to <port-file>; the server
# stops by itself after --max-seconds should stop never come. stop asks it to shut down and
# waits for it to go.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
file=$2

port_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$file" "$1"; }

case $1 in
start)
    rm -f "$file"
    nohup python3 "$here/dosvc_test_server.py" --https --max-seconds 1800 --port-file "$file" \
        </dev/null >"$file.log" 2>&1 &
    i=0
    while [ ! -s "$file" ]; do
        i=$((i + 1))
        if [ $i -gt 200 ]; then echo "test server did not start:"; cat "$file.log"; exit 1; fi
        sleep 0.1
    done
    cat "$file" ;;
stop)
    [ -s "$file" ] || exit 0
    pid=$(port_of pid)
    python3 -c 'import sys, urllib.request; urllib.request.urlopen("http://127.0.0.1:%s/_control/shutdown" % sys.argv[1], timeout=10).read()' \
        "$(port_of http_port)" >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.1; done
    rm -f "$file" ;;
*)
    echo "usage: $0 start|stop <port-file>" >&2
    exit 2 ;;
esac
