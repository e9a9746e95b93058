#!/bin/sh
# The end-to-end test (e2e.sh) against the ASan/UBSan build of pvd: any
# sanitizer report in pvd's log, or pvd not exiting 0 on SIGTERM, fails it.
. "$(dirname "$0")/../lib/asan_pvd.sh"
exec sh "$(dirname "$0")/e2e.sh"
