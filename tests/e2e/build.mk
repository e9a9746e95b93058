# tests/e2e/build.mk - the end-to-end test of pvd + pvctl + the machine
# (real QEMU, build/pvcore.iso, build/guests/hello.elf), also against the
# ASan/UBSan pvd (build/asan/bin/pvd).
TESTS += tests/e2e/e2e.sh tests/e2e/e2e-asan.sh
