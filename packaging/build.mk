# packaging/build.mk - `make install DESTDIR=... PREFIX=/usr`.
PREFIX     ?= /usr
SYSCONFDIR ?= /etc
UNITDIR    ?= /lib/systemd/system
LIBEXECDIR ?= $(PREFIX)/libexec
INSTALL    ?= install

.PHONY: install
install: $(BUILD)/bin/pvd $(BUILD)/bin/pvctl
	$(INSTALL) -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin \
	    $(DESTDIR)$(PREFIX)/share/pvcore/schemas $(DESTDIR)$(PREFIX)/share/pvcore/api \
	    $(DESTDIR)$(PREFIX)/share/pvcore/guests $(DESTDIR)$(PREFIX)/share/doc/pvcore/examples \
	    $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man8 \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/pvd $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib \
	    $(DESTDIR)$(LIBEXECDIR)/pvcore $(DESTDIR)$(SYSCONFDIR)/default
	$(INSTALL) -m 0755 $(BUILD)/bin/pvd $(DESTDIR)$(PREFIX)/sbin/pvd
	$(INSTALL) -m 0755 $(BUILD)/bin/pvctl $(DESTDIR)$(PREFIX)/bin/pvctl
	$(INSTALL) -m 0644 $(BUILD)/lib/libpvdclient.a $(DESTDIR)$(PREFIX)/lib/
	$(INSTALL) -m 0644 api/pvdclient.h api/pvd_api.h $(DESTDIR)$(PREFIX)/include/
	$(INSTALL) -m 0644 schemas/domain.schema.json schemas/domain.rng schemas/[0-9]*.sql \
	    $(DESTDIR)$(PREFIX)/share/pvcore/schemas/
	$(INSTALL) -m 0644 api/pvd.openrpc.json $(DESTDIR)$(PREFIX)/share/pvcore/api/
	$(INSTALL) -m 0755 api/examples/orchestrate.py $(DESTDIR)$(PREFIX)/share/doc/pvcore/examples/
	$(INSTALL) -m 0644 examples/*.json examples/*.xml $(DESTDIR)$(PREFIX)/share/doc/pvcore/examples/
	if [ -f $(BUILD)/pvcore.iso ]; then $(INSTALL) -m 0644 $(BUILD)/pvcore.iso $(DESTDIR)$(PREFIX)/share/pvcore/; fi
	for g in $(wildcard $(BUILD)/guests/*.elf); do $(INSTALL) -m 0644 $$g $(DESTDIR)$(PREFIX)/share/pvcore/guests/; done
	$(INSTALL) -m 0644 packaging/man/pvctl.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	$(INSTALL) -m 0644 packaging/man/pvd.8 packaging/man/pvd-guests.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	$(INSTALL) -m 0755 packaging/systemd/pvd-guests $(DESTDIR)$(LIBEXECDIR)/pvcore/pvd-guests
	sed 's|/usr/libexec/pvcore/|$(LIBEXECDIR)/pvcore/|; s|/etc/default/|$(SYSCONFDIR)/default/|' \
	    packaging/systemd/pvd-guests.service > $(DESTDIR)$(UNITDIR)/pvd-guests.service && \
	    chmod 0644 $(DESTDIR)$(UNITDIR)/pvd-guests.service
	[ -f $(DESTDIR)$(SYSCONFDIR)/default/pvd-guests ] || \
	    $(INSTALL) -m 0644 packaging/systemd/pvd-guests.default $(DESTDIR)$(SYSCONFDIR)/default/pvd-guests
	$(INSTALL) -m 0644 packaging/completion/pvctl $(DESTDIR)$(PREFIX)/share/bash-completion/completions/pvctl
	sed 's|/usr/sbin/pvd|$(PREFIX)/sbin/pvd|; s|/etc/pvd/|$(SYSCONFDIR)/pvd/|' packaging/pvd.service \
	    > $(DESTDIR)$(UNITDIR)/pvd.service && chmod 0644 $(DESTDIR)$(UNITDIR)/pvd.service
	[ -f $(DESTDIR)$(SYSCONFDIR)/pvd/pvd.conf ] || \
	    $(INSTALL) -m 0644 packaging/pvd.conf $(DESTDIR)$(SYSCONFDIR)/pvd/pvd.conf
