#!/bin/sh
# Black-box tests against build/bin/pvd (see blackbox.py).
exec python3 "$(dirname "$0")/blackbox.py"
