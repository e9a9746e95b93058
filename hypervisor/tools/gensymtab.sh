#!/bin/sh
# Generate the hypervisor's symbol table (assembly) from a linked image.
# Usage: gensymtab.sh [ELF] > symtab.S   (no ELF: an empty table)
# Text symbols only, sorted by address, with their sizes.
set -eu
{
    if [ $# -gt 0 ]; then
        nm -n -S --defined-only "$1" | awk '
            NF == 4 && ($3 == "t" || $3 == "T") { print $1, $2, $4 }
            NF == 3 && ($2 == "t" || $2 == "T") { print $1, "0", $3 }'
    fi
} | awk '
BEGIN { n = 0 }
{ addr[n] = $1; size[n] = $2; name[n] = $3; n++ }
END {
    print "    .section .rodata.symtab, \"a\""
    print "    .globl symtab_count, symtab_addrs, symtab_sizes, symtab_name_off, symtab_strings"
    print "    .balign 8"
    print "symtab_count: .quad " n
    print "symtab_addrs:"
    for (i = 0; i < n; i++) print "    .quad 0x" addr[i]
    print "symtab_sizes:"
    for (i = 0; i < n; i++) print "    .quad 0x" size[i]
    print "symtab_name_off:"
    off = 0
    for (i = 0; i < n; i++) { print "    .long " off; off += length(name[i]) + 1 }
    print "symtab_strings:"
    for (i = 0; i < n; i++) print "    .asciz \"" name[i] "\""
    print "    .byte 0"
}'
