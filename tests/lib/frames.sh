# Domains' traces in the hypervisor's log and pvd's events, for the tests
# that boot real guests through pvd and check that every domain gave all
# its frames back (sourced, POSIX sh). Needs HVLOG, PVCTL, T, ROOT, BUILD,
# wait_for (tests/lib/wait.sh) and the caller's console_has NAME TEXT.

# The free-frame count the hypervisor logged when NAME was destroyed.
frames_after() {
    tr -d '\r' <"$HVLOG" | sed -n "s/^.*domain [0-9]* ($1): destroyed; \([0-9]*\) frames free.*/\1/p" | tail -n 1
}
has_frames_after() { [ -n "$(frames_after "$1")" ]; }
is_gone() { ! $PVCTL list | grep -q " $1 "; }
# The reason of NAME's last domain.shutdown event.
shutdown_reason() {
    $PVCTL events --json | python3 -c '
import json, sys
for line in sys.stdin:
    e = json.loads(line)
    if e["type"] == "domain.shutdown" and (e.get("domain") or {}).get("name") == sys.argv[1]:
        print(e["detail"].get("reason"))' "$1" | tail -n 1
}
# probe NAME: run hello.elf as NAME (transient), destroy it, and print the
# free frames the hypervisor logged after it. Fails printing nothing.
probe() {
    printf '{"name": "%s", "kernel": "%s", "memory": 32}\n' "$1" "$ROOT/$BUILD/guests/hello.elf" >"$T/probe.json"
    $PVCTL create --transient "$T/probe.json" >/dev/null 2>&1 &&
        wait_for 30 console_has "$1" 'Hello from pvcore' &&
        $PVCTL destroy "$1" >/dev/null 2>&1 && wait_for 30 has_frames_after "$1" &&
        frames_after "$1"
}
