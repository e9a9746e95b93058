#!/bin/sh
# Install the Debian packages pvcore needs, idempotently.
# Usage: deps.sh PKG...   Exits 0 when everything is present afterwards.
set -u
missing=""
for p in "$@"; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
    case "$st" in *"install ok installed"*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0
cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" != 0 ]; then
    echo "pvcore: missing Debian packages:$missing" >&2
    echo "pvcore: run as root:  apt-get update && $cmd" >&2
    exit 1
fi
echo "pvcore: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2 || exit 1
$cmd >&2 || exit 1
