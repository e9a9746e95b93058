/* Symbol names for addresses in the hypervisor's text (common/symbols.c).
 * The table is generated at link time (tools/gensymtab.sh, second link). */
#ifndef HV_SYMBOLS_H
#define HV_SYMBOLS_H

#include "hv/types.h"

/* Find the function containing addr. Returns its name and sets *offset and
 * *size, or returns NULL when addr is not in a known function. */
const char *symbol_lookup(uint64_t addr, uint64_t *offset, uint64_t *size);
/* Format "name+0xoff/0xsize" (or "?") into buf. */
void symbol_format(uint64_t addr, char *buf, size_t len);

#endif
