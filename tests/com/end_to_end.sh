#!/bin/sh
# End to end: the in-process registration and activation in the test prefix (the service
# mode has its own tests, test_service.c).
#   end_to_end.sh <wine-run> <bin dir>
# Checks that dosvc's class is not registered, registers <bin dir>/dosvc.dll with
# `regsvr32 /s /n /i:inproc`, checks the keys it wrote (InprocServer32 = the DLL,
# ThreadingModel = Both), runs e2e-client.exe (CoCreateInstance and a short job session),
# unregisters with `regsvr32 /u /s /n /i:inproc` and checks that the class key is gone.
# The registration is undone whatever fails. Exit 0 when every check passed, 1 otherwise; each failure says why.
set -eu

if [ $# -ne 2 ]; then
    echo "usage: $0 <wine-run> <bin dir>" >&2
    exit 2
fi
run=$1
bin=$2
key='HKCR\CLSID\{5B99FA76-721C-423C-ADAC-56D03C8A8007}'
server_key="$key\\InprocServer32"
failed=0
registered=false

say() { printf 'end_to_end: %s\n' "$*"; }
fail() { say "FAILED: $*"; failed=1; }
die() { say "FAILED: $*"; exit 1; }

# Wine prints CRLF; reg and regsvr32 speak only through their exit codes and output.
wine_out() { "$run" "$@" 2>/dev/null | tr -d '\r'; }
key_exists() { "$run" reg query "$1" >/dev/null 2>&1; }
# The data of one value as `reg query` prints it: "    <name>    REG_SZ    <data>".
value_of() { wine_out reg query "$@" | sed -n 's/^.*REG_SZ[[:space:]]*//p' | head -n 1; }
lower() { printf '%s' "$1" | tr '[:upper:]' '[:lower:]'; }

unregister() { "$run" regsvr32 /u /s /n /i:inproc "$dll" >/dev/null 2>&1; }
cleanup() {
    if $registered; then
        say "undoing the registration"
        unregister || say "regsvr32 /u failed while cleaning up"
    fi
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

[ -f "$bin/dosvc.dll" ] || die "$bin/dosvc.dll does not exist"
[ -f "$bin/e2e-client.exe" ] || die "$bin/e2e-client.exe does not exist"
dll=$(wine_out winepath -w "$bin/dosvc.dll")
[ -n "$dll" ] || die "winepath could not convert $bin/dosvc.dll"
say "DLL: $dll"

# A registration left by someone else is not ours to test over or to remove.
if key_exists "$key"; then
    die "$key exists before the test: the prefix is not clean"
fi

registered=true
if "$run" regsvr32 /s /n /i:inproc "$dll" >/dev/null 2>&1; then
    say "regsvr32 /s /n /i:inproc: ok"
else
    fail "regsvr32 /s /n /i:inproc $dll exited with $?"
fi

if key_exists "$key"; then
    say "$key: present"
else
    fail "$key is missing after regsvr32"
fi
path=$(value_of "$server_key" /ve)
if [ "$(lower "$path")" = "$(lower "$dll")" ]; then
    say "InprocServer32: $path"
else
    fail "InprocServer32 is '$path', expected '$dll'"
fi
model=$(value_of "$server_key" /v ThreadingModel)
if [ "$model" = Both ]; then
    say "ThreadingModel: Both"
else
    fail "ThreadingModel is '$model', expected 'Both'"
fi

if "$run" "$bin/e2e-client.exe"; then
    say "e2e-client: ok"
else
    fail "e2e-client exited with $?"
fi

if unregister; then
    registered=false
    say "regsvr32 /u /s /n /i:inproc: ok"
else
    fail "regsvr32 /u /s /n /i:inproc $dll exited with $?"
fi
if key_exists "$key"; then
    fail "$key is still there after regsvr32 /u"
else
    say "$key: gone"
fi

[ $failed -eq 0 ] && say "passed" || say "failed"
exit $failed
