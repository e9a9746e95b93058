# pvcore top-level Makefile.
#
# Each subsystem contributes a fragment (<dir>/build.mk) that adds to:
#   ALL_TARGETS  - files `make` builds
#   TESTS        - test programs run by `make test` (see tests/run-tests.sh)
#   DEB_PACKAGES - Debian packages needed to build and test
# Outputs go under $(BUILD)/. Fragments must not define their own `all`.

BUILD      ?= build
HOST_CC    ?= gcc
HOST_CFLAGS ?= -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
               -Wmissing-prototypes -Wno-unused-parameter -D_GNU_SOURCE
Q          ?= @

ALL_TARGETS  :=
TESTS        :=
DEB_PACKAGES := make gcc binutils gawk python3 grub-pc-bin grub-common xorriso mtools \
                qemu-system-x86 libcmocka-dev sqlite3 coreutils util-linux

.PHONY: all
all: real-all

include $(sort $(wildcard */build.mk */*/build.mk */*/*/build.mk))

.PHONY: real-all deps test run run-bare iso clean

real-all: $(ALL_TARGETS)

# `make deps`: install what is missing (as root), or print the exact command.
deps:
	$(Q)BUILD=$(BUILD) sh tests/lib/deps.sh $(sort $(DEB_PACKAGES))

test: deps
	$(Q)$(MAKE) --no-print-directory real-all
	$(Q)BUILD=$(BUILD) sh tests/run-tests.sh $(TESTS)

# `make run`: start pvd on ./run/ (it boots the machine), create the demo
# domain from examples/hello.json, and show how to attach to its console.
# `make run-bare` boots just the hypervisor with its console on this
# terminal (Ctrl-a x quits QEMU). QEMU_ACCEL=kvm to use KVM.
QEMU_ACCEL ?= tcg
QEMU_MEM   ?= 512
run: deps
	$(Q)$(MAKE) --no-print-directory real-all
	$(Q)sh tests/lib/run-demo.sh

run-bare: deps
	$(Q)$(MAKE) --no-print-directory real-all
	qemu-system-x86_64 -accel $(QEMU_ACCEL) -machine pc -m $(QEMU_MEM) -nographic \
		-no-reboot -cdrom $(BUILD)/pvcore.iso

clean:
	rm -rf $(BUILD)
