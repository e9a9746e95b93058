#!/bin/sh
# xenstore_guests.sh against the ASan/UBSan build of pvd.
. "$(dirname "$0")/../lib/asan_pvd.sh"
exec sh "$(dirname "$0")/xenstore_guests.sh"
