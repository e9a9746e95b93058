# packaging/build.mk - `make install DESTDIR=... PREFIX=/usr`.
PREFIX     ?= /usr
SYSCONFDIR ?= /etc
UNITDIR    ?= /lib/systemd/system
LIBEXECDIR ?= $(PREFIX)/libexec
INSTALL    ?= install

# Everything needed to run domains; make builds what is missing first (the
# ISO and the guests too), and fails when something cannot be had. The
# installed examples name the installed guests; the installed pvd.conf names
# the installed ISO. Guest kernels and the hypervisor ELF (booted by GRUB
# through /etc/grub.d/42_pvcore) are binaries for this architecture, so
# they go under lib/, the ISO under share/.
INSTALL_NEEDS := $(BUILD)/bin/pvd $(BUILD)/bin/pvctl $(BUILD)/bin/pvcore-extract-kernel \
                 $(BUILD)/lib/libpvdclient.a $(ISO) $(HV_ELF) $(GUEST_ELFS)
GUESTDIR      := $(PREFIX)/lib/pvcore/guests

.PHONY: install installables
installables: $(INSTALL_NEEDS)
install: $(INSTALL_NEEDS)
	$(INSTALL) -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin \
	    $(DESTDIR)$(PREFIX)/share/pvcore/schemas $(DESTDIR)$(PREFIX)/share/pvcore/api \
	    $(DESTDIR)$(GUESTDIR) $(DESTDIR)$(PREFIX)/share/doc/pvcore/examples \
	    $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man8 \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/pvd $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib \
	    $(DESTDIR)$(LIBEXECDIR)/pvcore $(DESTDIR)$(SYSCONFDIR)/default $(DESTDIR)$(SYSCONFDIR)/grub.d \
	    $(DESTDIR)$(PREFIX)/share/pvcore/python
	$(INSTALL) -m 0755 $(BUILD)/bin/pvd $(DESTDIR)$(PREFIX)/sbin/pvd
	$(INSTALL) -m 0755 $(BUILD)/bin/pvctl $(DESTDIR)$(PREFIX)/bin/pvctl
	$(INSTALL) -m 0755 $(BUILD)/bin/pvcore-extract-kernel $(DESTDIR)$(PREFIX)/bin/pvcore-extract-kernel
	$(INSTALL) -m 0644 $(BUILD)/lib/libpvdclient.a $(DESTDIR)$(PREFIX)/lib/
	$(INSTALL) -m 0644 api/pvdclient.h api/pvd_api.h $(DESTDIR)$(PREFIX)/include/
	$(INSTALL) -m 0644 schemas/domain.schema.json schemas/domain.rng schemas/[0-9]*.sql \
	    $(DESTDIR)$(PREFIX)/share/pvcore/schemas/
	$(INSTALL) -m 0644 api/pvd.openrpc.json $(DESTDIR)$(PREFIX)/share/pvcore/api/
	$(INSTALL) -m 0644 api/python/pvdclient.py $(DESTDIR)$(PREFIX)/share/pvcore/python/
	sed 's|"/usr/share/pvcore/python"|"$(PREFIX)/share/pvcore/python"|' api/examples/orchestrate.py \
	    > $(DESTDIR)$(PREFIX)/share/doc/pvcore/examples/orchestrate.py && \
	    chmod 0755 $(DESTDIR)$(PREFIX)/share/doc/pvcore/examples/orchestrate.py
	$(INSTALL) -m 0644 $(ISO) $(DESTDIR)$(PREFIX)/share/pvcore/pvcore.iso
	$(INSTALL) -m 0644 $(GUEST_ELFS) $(DESTDIR)$(GUESTDIR)/
	$(INSTALL) -m 0644 $(HV_ELF) $(DESTDIR)$(PREFIX)/lib/pvcore/pvcore.elf
	sed 's|/usr/lib/pvcore/|$(PREFIX)/lib/pvcore/|g; s|/etc/default/|$(SYSCONFDIR)/default/|' \
	    packaging/grub/42_pvcore > $(DESTDIR)$(SYSCONFDIR)/grub.d/42_pvcore && \
	    chmod 0755 $(DESTDIR)$(SYSCONFDIR)/grub.d/42_pvcore
	for f in examples/*.json examples/*.xml; do \
	    sed 's|\.\./build/guests/|$(GUESTDIR)/|' $$f > $(DESTDIR)$(PREFIX)/share/doc/pvcore/$$f && \
	    chmod 0644 $(DESTDIR)$(PREFIX)/share/doc/pvcore/$$f || exit 1; \
	    k=$$(sed -n 's|.*[">]\(/[^"<]*\.elf\)[<"].*|\1|p' $(DESTDIR)$(PREFIX)/share/doc/pvcore/$$f); \
	    [ -f "$(DESTDIR)$$k" ] || { echo "install: $$f: kernel $$k is not installed" >&2; exit 1; }; \
	done
	$(INSTALL) -m 0644 packaging/man/pvctl.1 packaging/man/pvcore-extract-kernel.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	$(INSTALL) -m 0644 packaging/man/pvd.8 packaging/man/pvd-guests.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	$(INSTALL) -m 0644 packaging/completion/pvctl $(DESTDIR)$(PREFIX)/share/bash-completion/completions/pvctl
	$(INSTALL) -m 0755 packaging/systemd/pvd-guests $(DESTDIR)$(LIBEXECDIR)/pvcore/pvd-guests
	sed 's|/usr/sbin/pvd|$(PREFIX)/sbin/pvd|; s|/etc/pvd/|$(SYSCONFDIR)/pvd/|' packaging/pvd.service \
	    > $(DESTDIR)$(UNITDIR)/pvd.service && chmod 0644 $(DESTDIR)$(UNITDIR)/pvd.service
	sed 's|/usr/libexec/pvcore/|$(LIBEXECDIR)/pvcore/|; s|/etc/default/|$(SYSCONFDIR)/default/|' \
	    packaging/systemd/pvd-guests.service > $(DESTDIR)$(UNITDIR)/pvd-guests.service && \
	    chmod 0644 $(DESTDIR)$(UNITDIR)/pvd-guests.service
	[ -f $(DESTDIR)$(SYSCONFDIR)/default/pvd-guests ] || \
	    $(INSTALL) -m 0644 packaging/systemd/pvd-guests.default $(DESTDIR)$(SYSCONFDIR)/default/pvd-guests
	[ -f $(DESTDIR)$(SYSCONFDIR)/pvd/pvd.conf ] || \
	    sed 's|^# iso = .*|iso = $(PREFIX)/share/pvcore/pvcore.iso|' packaging/pvd.conf \
	    > $(DESTDIR)$(SYSCONFDIR)/pvd/pvd.conf
	grep -q '^iso = ' $(DESTDIR)$(SYSCONFDIR)/pvd/pvd.conf || \
	    { echo "install: $(SYSCONFDIR)/pvd/pvd.conf names no iso" >&2; exit 1; }

# `make deb`: the Debian package, built by dpkg-buildpackage (debhelper) from
# packaging/debian/ copied to $(DEB_DIR)/src, in a build dir of its own
# (Debian's hardening flags added to the project's), so build/ is untouched.
# `make test-deb` builds it and installs it into a fresh root (about 25 s,
# so it is part of `make test` too).
DEB_DIR     := $(BUILD)/deb
DEB_VERSION := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' packaging/debian/changelog)
DEB_FILE    := $(DEB_DIR)/pvcore_$(DEB_VERSION)_amd64.deb

.PHONY: deb test-deb
deb:
	rm -rf $(DEB_DIR)/src $(DEB_DIR)/*.deb $(DEB_DIR)/*.ddeb $(DEB_DIR)/*.changes $(DEB_DIR)/*.buildinfo
	mkdir -p $(DEB_DIR)/src
	cp -r packaging/debian $(DEB_DIR)/src/debian
	cd $(DEB_DIR)/src && PVCORE_SRC=$(CURDIR) PVCORE_BUILD=$(abspath $(DEB_DIR)/build) \
	    PVCORE_CFLAGS='$(HOST_CFLAGS)' dpkg-buildpackage -b -us -uc
	@echo "  DEB     $(DEB_FILE)"

test-deb:
	$(Q)BUILD=$(BUILD) sh tests/run-tests.sh tests/packaging/test_deb.sh

TESTS        += tests/packaging/test_deb.sh
DEB_PACKAGES += debhelper lintian
