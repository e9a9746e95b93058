/* Address-to-symbol lookup over the link-time generated table.
 * symtab_addrs is sorted ascending; symtab_names[i] is the NUL-terminated
 * name of entry i at offset symtab_name_off[i] in symtab_strings. */
#include "hv/lib.h"
#include "hv/symbols.h"

extern const uint64_t symtab_count;
extern const uint64_t symtab_addrs[];
extern const uint64_t symtab_sizes[];
extern const uint32_t symtab_name_off[];
extern const char symtab_strings[];

const char *symbol_lookup(uint64_t addr, uint64_t *offset, uint64_t *size)
{
    uint64_t lo = 0, hi = symtab_count;

    /* Last entry with address <= addr. */
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (symtab_addrs[mid] <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    uint64_t i = lo - 1;
    uint64_t sz = symtab_sizes[i];
    if (sz && addr - symtab_addrs[i] >= sz)
        return NULL;
    *offset = addr - symtab_addrs[i];
    *size = sz;
    return symtab_strings + symtab_name_off[i];
}

void symbol_format(uint64_t addr, char *buf, size_t len)
{
    uint64_t off, size;
    const char *name = symbol_lookup(addr, &off, &size);

    if (name)
        snprintf(buf, len, "%s+%#lx/%#lx", name, off, size);
    else
        snprintf(buf, len, "?");
}
