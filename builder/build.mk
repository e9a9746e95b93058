# builder/: the PV domain builder that the hypervisor and Domain 0 share
# (pvbuild.c, pvbuild.h). hypervisor/build.mk compiles it into the image,
# dom0/build.mk into libdom0.a; tests/unit/builder/ tests it on the host.
#
# Host code (dom0/, daemon/, their tests) sees only the public ABI headers
# and the builder's own: PUBLIC_INC holds nothing but a link to
# hypervisor/include/public, so <public/...> resolves and "hv/..." cannot.
PVBUILD_SRC := builder/pvbuild.c
PVBUILD_HDR := builder/pvbuild.h
PUBLIC_HDRS := $(wildcard hypervisor/include/public/*.h hypervisor/include/public/*/*.h)
PUBLIC_INC  := $(BUILD)/include-public
PUBLIC_LINK := $(PUBLIC_INC)/public
HOST_PUBLIC_CFLAGS := -I$(PUBLIC_INC) -Ibuilder

$(PUBLIC_LINK):
	$(Q)mkdir -p $(PUBLIC_INC)
	$(Q)ln -sfn $(abspath hypervisor/include/public) $@
