/*
 * machine_iso.h - the per-machine boot image: GRUB (BIOS, multiboot2)
 * booting the hypervisor ELF with a command line and modules chosen at
 * start time. An ISO's command line is fixed when it is built, and QEMU's
 * -kernel does not speak multiboot2, so each machine gets its own image.
 */
#ifndef DOM0_MACHINE_ISO_H
#define DOM0_MACHINE_ISO_H

#include <stddef.h>

struct machine_module;

/* Check that text can stand on a GRUB command line unquoted: printable
 * ASCII without GRUB's special characters. -EINVAL naming what (e.g.
 * "cmdline") and the offending character. */
int machine_iso_check_args(const char *what, const char *text, char *err, size_t errlen);

/* Build state_dir/machine.iso (replacing it atomically) from hv_elf with
 * cmdline and the modules; grub-mkrescue's output goes to iso.log. */
int machine_iso_build(const char *state_dir, const char *hv_elf, const char *cmdline,
                      const struct machine_module *modules, size_t nr_modules,
                      char *err, size_t errlen);

#endif
