# tests/linux/build.mk - Debian's own Linux kernel as a guest.
#
#   make test-linux      boots Debian 12's current linux-image-*-amd64 with a
#                        busybox initramfs through pvd/pvctl create on pvcore
#                        (tests/linux/linux-pvcore.sh); also in `make test`.
#   make test-linux-xen  the same kernel and initramfs as dom0 of Debian's
#                        Xen 4.17, the reference (tests/linux/linux-xen.sh);
#                        also run by `make test-xen`.
# Packages go to a cache outside the clone (PVCORE_CACHE, default
# /var/cache/pvcore), fetched with apt-get download, never installed.

LINUX_TEST_DEPS := $(BUILD)/bin/pvd $(BUILD)/bin/pvctl $(BUILD)/pvcore.iso \
                   $(BUILD)/hypervisor/pvcore.elf $(BUILD)/guests/hello.elf \
                   $(BUILD)/bin/pvcore-extract-kernel

.PHONY: test-linux test-linux-xen test-linux-blk-kill
test-linux: deps
	$(Q)$(MAKE) --no-print-directory $(LINUX_TEST_DEPS)
	$(Q)BUILD=$(BUILD) TEST_TIMEOUT=1800 sh tests/run-tests.sh tests/linux/linux-pvcore.sh \
	    tests/linux/linux-bootloader.sh tests/linux/linux-net.sh tests/linux/linux-hotplug.sh

# pvd killed while Linux writes files on its disk; e2fsck on the image
# afterwards (tests/linux/linux-blk-kill.sh, ~2-4 min; LINUX_KILL_SECS).
# make test has the bounded version: tests/blk/blk_guests.sh kills pvd under
# the blk test kernel's numbered requests.
test-linux-blk-kill: deps
	$(Q)$(MAKE) --no-print-directory $(LINUX_TEST_DEPS)
	$(Q)BUILD=$(BUILD) TEST_TIMEOUT=900 sh tests/run-tests.sh tests/linux/linux-blk-kill.sh

test-linux-xen: deps
	$(Q)$(MAKE) --no-print-directory $(LINUX_TEST_DEPS)
	$(Q)BUILD=$(BUILD) TEST_TIMEOUT=1800 sh tests/run-tests.sh tests/linux/linux-xen.sh

test-xen: $(BUILD)/bin/pvcore-extract-kernel
TESTS += tests/linux/linux-pvcore.sh tests/linux/linux-bootloader.sh
TESTS += tests/linux/linux-net.sh tests/linux/linux-hotplug.sh
DEB_PACKAGES += cpio gzip
