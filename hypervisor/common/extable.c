/* Exception fixup table: instructions that may fault on guest-controlled
 * addresses, and where to resume when they do (common/extable.c). The
 * table is built by the linker from .extable entries; it is small and
 * searched linearly. */
#include "hv/guest_access.h"

extern const struct extable_entry __start_extable[], __stop_extable[];

uint64_t search_extable(uint64_t rip)
{
    for (const struct extable_entry *e = __start_extable; e < __stop_extable; e++)
        if (e->insn == rip)
            return e->fixup;
    return 0;
}
