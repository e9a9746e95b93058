# tests/blk - virtual block devices end to end: pvd's blkback with the
# test kernel build/guests/blk.elf (real QEMU, build/pvcore.iso).
TESTS        += tests/blk/blk_guests.sh
