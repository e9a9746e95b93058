#!/bin/sh
# options.sh NAME - the libFuzzer options of one target (input size
# bounds that fit what it parses, its dictionary when it has one), shared
# by run-fuzz.sh and smoke.sh.
BUILD=${BUILD:-build}
[ -f "$BUILD/fuzz/$1.dict" ] && printf '%s ' "-dict=$BUILD/fuzz/$1.dict"
case "$1" in
    xs_ring) echo "-max_len=12000" ;;
    kernel_image) echo "-max_len=65536" ;;
    rpc) echo "-max_len=8192" ;;
    config) echo "-max_len=8192" ;;
    blkif|netif) echo "-max_len=4096" ;;
    ctl) echo "-max_len=2048" ;;
    *) echo "-max_len=4096" ;;
esac
