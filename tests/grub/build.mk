# tests/grub/build.mk - GRUB's Xen PV port (Debian's grub-xen-host and
# grub-xen-bin, fetched with apt-get download into PVCORE_CACHE, never
# installed) as a guest, a PV guest written independently of pvcore.
#
#   make test-grub   tests/grub/grub-pvcore.sh: through pvd/pvctl create, our
#                    marker image, the shipped image to its prompt, and
#                    PV-GRUB booting Debian's Linux from its memdisk;
#                    tests/grub/grub-bootloader.sh: the same images as
#                    boot-loader domains. Both are also in `make test`.

GRUB_TEST_DEPS := $(BUILD)/bin/pvd $(BUILD)/bin/pvctl $(BUILD)/pvcore.iso \
                  $(BUILD)/hypervisor/pvcore.elf $(BUILD)/guests/hello.elf

.PHONY: test-grub
test-grub: deps
	$(Q)$(MAKE) --no-print-directory $(GRUB_TEST_DEPS)
	$(Q)BUILD=$(BUILD) sh tests/run-tests.sh tests/grub/grub-pvcore.sh \
	    tests/grub/grub-bootloader.sh

TESTS += tests/grub/grub-pvcore.sh tests/grub/grub-bootloader.sh
DEB_PACKAGES += grub-common cpio gzip tar
