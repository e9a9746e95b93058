/* Host unit test of the writable page-table instruction decoder and
 * executor (hypervisor/arch/x86_64/pv/ptwr_insn.c) against this CPU.
 *
 * Every case is an instruction encoded here from its parts (prefixes, REX,
 * opcode, ModRM/SIB addressing, immediate), run once natively on a data
 * page and once through ptwr_decode + ptwr_execute on a copy of the same
 * page with the same registers. The two must agree on the address
 * written, the instruction length, the memory, every register and every
 * flag the instruction defines. The matrix covers each operation, each
 * operand width, the prefixes (lock, 3e, 2e, fs, gs, 66, REX) and each
 * addressing form, with random operands (cmpxchg both matching and not).
 * Forms the emulator must refuse are checked to be refused. */
#include <asm/prctl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>

#include "asm/ptwr_insn.h"
#include "hv/errno.h"

#define FL_CF 0x001UL
#define FL_PF 0x004UL
#define FL_AF 0x010UL
#define FL_ZF 0x040UL
#define FL_SF 0x080UL
#define FL_OF 0x800UL
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

/* ------------------------------------------------------------------ */
/* Running one instruction natively                                     */

struct host_state {
    uint64_t gpr[16];       /* rsp (gpr[4]) is neither loaded nor saved */
    uint64_t rflags;
};

void host_run(struct host_state *s, void *code);
struct host_state *host_run_state;
void *host_run_code;
uint64_t host_run_rdi;

/* Load every register but rsp from *s, call code (the instruction and a
 * ret), store them and the flags back. */
__asm__(
    ".text\n.globl host_run\n.type host_run,@function\nhost_run:\n"
    "push %rbx\npush %rbp\npush %r12\npush %r13\npush %r14\npush %r15\n"
    "mov %rdi, host_run_state(%rip)\nmov %rsi, host_run_code(%rip)\n"
    "pushq 128(%rdi)\npopfq\n"
    "mov 0(%rdi), %rax\nmov 8(%rdi), %rcx\nmov 16(%rdi), %rdx\nmov 24(%rdi), %rbx\n"
    "mov 40(%rdi), %rbp\nmov 48(%rdi), %rsi\nmov 64(%rdi), %r8\nmov 72(%rdi), %r9\n"
    "mov 80(%rdi), %r10\nmov 88(%rdi), %r11\nmov 96(%rdi), %r12\nmov 104(%rdi), %r13\n"
    "mov 112(%rdi), %r14\nmov 120(%rdi), %r15\nmov 56(%rdi), %rdi\n"
    "call *host_run_code(%rip)\n"
    "pushfq\n"
    "mov %rdi, host_run_rdi(%rip)\nmov host_run_state(%rip), %rdi\n"
    "mov %rax, 0(%rdi)\nmov %rcx, 8(%rdi)\nmov %rdx, 16(%rdi)\nmov %rbx, 24(%rdi)\n"
    "mov %rbp, 40(%rdi)\nmov %rsi, 48(%rdi)\nmov %r8, 64(%rdi)\nmov %r9, 72(%rdi)\n"
    "mov %r10, 80(%rdi)\nmov %r11, 88(%rdi)\nmov %r12, 96(%rdi)\nmov %r13, 104(%rdi)\n"
    "mov %r14, 112(%rdi)\nmov %r15, 120(%rdi)\n"
    "mov host_run_rdi(%rip), %rax\nmov %rax, 56(%rdi)\n"
    "popq 128(%rdi)\n"
    "pop %r15\npop %r14\npop %r13\npop %r12\npop %rbp\npop %rbx\nret\n");

static uint8_t *code_page, *data_page;     /* adjacent, below 2 GiB */
static uint64_t fs_base, gs_base;

static int setup(void **state)
{
    (void)state;
    uint8_t *p = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    code_page = p;
    data_page = p + 4096;
    syscall(SYS_arch_prctl, ARCH_GET_FS, &fs_base);
    syscall(SYS_arch_prctl, ARCH_GET_GS, &gs_base);
    srandom(12345);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    munmap(code_page, 2 * 4096);
    return 0;
}

static uint64_t rnd64(void)
{
    return ((uint64_t)random() << 62) ^ ((uint64_t)random() << 31) ^ (uint64_t)random();
}

/* ------------------------------------------------------------------ */
/* Encoding                                                             */

enum addressing {
    AM_BASE,            /* [rbx]                                 */
    AM_REXB_DISP8,      /* [r9 + disp8]                          */
    AM_SIB_DISP32,      /* [rsi + r10*8 + disp32]                */
    AM_RIP,             /* [rip + disp32]                        */
    AM_ABS32,           /* [disp32] through a SIB without base   */
    AM_R13_DISP8,       /* [r13 + 0]: mod 01 forced by r13       */
    AM_R12_INDEX,       /* [r8 + r12*2]: REX.X index 12          */
    AM_COUNT
};

struct form {
    const char *name;
    uint8_t opc[2];
    unsigned int opc_len;
    int ext;                /* ModRM reg field fixed by the opcode, or -1 */
    bool byte_op;
    unsigned int imm;       /* immediate bytes: 0, 1, or 4 (2 with 66) */
    bool lockable;
    enum ptwr_op op;
    uint64_t undefined;     /* flags the SDM leaves undefined */
};

static const struct form forms[] = {
    { "mov r/m8,r8",      { 0x88 }, 1, -1, true,  0, false, PTWR_MOV, 0 },
    { "mov r/m,r",        { 0x89 }, 1, -1, false, 0, false, PTWR_MOV, 0 },
    { "mov r/m8,imm8",    { 0xc6 }, 1,  0, true,  1, false, PTWR_MOV, 0 },
    { "mov r/m,imm",      { 0xc7 }, 1,  0, false, 4, false, PTWR_MOV, 0 },
    { "xchg r/m8,r8",     { 0x86 }, 1, -1, true,  0, true,  PTWR_XCHG, 0 },
    { "xchg r/m,r",       { 0x87 }, 1, -1, false, 0, true,  PTWR_XCHG, 0 },
    { "or r/m8,r8",       { 0x08 }, 1, -1, true,  0, true,  PTWR_OR, FL_AF },
    { "or r/m,r",         { 0x09 }, 1, -1, false, 0, true,  PTWR_OR, FL_AF },
    { "and r/m8,r8",      { 0x20 }, 1, -1, true,  0, true,  PTWR_AND, FL_AF },
    { "and r/m,r",        { 0x21 }, 1, -1, false, 0, true,  PTWR_AND, FL_AF },
    { "xor r/m8,r8",      { 0x30 }, 1, -1, true,  0, true,  PTWR_XOR, FL_AF },
    { "xor r/m,r",        { 0x31 }, 1, -1, false, 0, true,  PTWR_XOR, FL_AF },
    { "or r/m8,imm8",     { 0x80 }, 1,  1, true,  1, true,  PTWR_OR, FL_AF },
    { "and r/m8,imm8",    { 0x80 }, 1,  4, true,  1, true,  PTWR_AND, FL_AF },
    { "xor r/m8,imm8",    { 0x80 }, 1,  6, true,  1, true,  PTWR_XOR, FL_AF },
    { "or r/m,imm",       { 0x81 }, 1,  1, false, 4, true,  PTWR_OR, FL_AF },
    { "and r/m,imm",      { 0x81 }, 1,  4, false, 4, true,  PTWR_AND, FL_AF },
    { "xor r/m,imm",      { 0x81 }, 1,  6, false, 4, true,  PTWR_XOR, FL_AF },
    { "or r/m,imm8",      { 0x83 }, 1,  1, false, 1, true,  PTWR_OR, FL_AF },
    { "and r/m,imm8",     { 0x83 }, 1,  4, false, 1, true,  PTWR_AND, FL_AF },
    { "xor r/m,imm8",     { 0x83 }, 1,  6, false, 1, true,  PTWR_XOR, FL_AF },
    { "cmpxchg r/m8,r8",  { 0x0f, 0xb0 }, 2, -1, true,  0, true, PTWR_CMPXCHG, 0 },
    { "cmpxchg r/m,r",    { 0x0f, 0xb1 }, 2, -1, false, 0, true, PTWR_CMPXCHG, 0 },
    { "cmpxchg8b m64",    { 0x0f, 0xc7 }, 2,  1, false, 0, true, PTWR_CMPXCHG8B, 0 },
    { "bts r/m,r",        { 0x0f, 0xab }, 2, -1, false, 0, true, PTWR_BTS,
      FL_OF | FL_SF | FL_AF | FL_PF },
    { "btr r/m,r",        { 0x0f, 0xb3 }, 2, -1, false, 0, true, PTWR_BTR,
      FL_OF | FL_SF | FL_AF | FL_PF },
    { "bts r/m,imm8",     { 0x0f, 0xba }, 2,  5, false, 1, true, PTWR_BTS,
      FL_OF | FL_SF | FL_AF | FL_PF },
    { "btr r/m,imm8",     { 0x0f, 0xba }, 2,  6, false, 1, true, PTWR_BTR,
      FL_OF | FL_SF | FL_AF | FL_PF },
};

enum width_kind { W_DEFAULT, W_16, W_64, W_COUNT };
enum prefix_kind { P_NONE, P_LOCK, P_3E, P_LOCK_3E, P_2E, P_FS, P_GS, P_COUNT };
static const char *const prefix_names[P_COUNT] = {
    "none", "lock", "3e", "lock+3e", "2e", "fs", "gs",
};

struct encoded {
    uint8_t bytes[PTWR_MAX_INSN];
    unsigned int len;
    uint64_t target;        /* data address the operand is at */
};

static void emit(struct encoded *e, uint64_t v, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++)
        e->bytes[e->len++] = (uint8_t)(v >> (8 * i));
}

/* Build the instruction and set the address registers of s so that the
 * operand is at data_page + off (seg: the segment base added by the CPU). */
static void encode(struct encoded *e, struct host_state *s, const struct form *f,
                   enum width_kind wk, enum prefix_kind pk, enum addressing am,
                   unsigned int reg, unsigned int off)
{
    uint64_t seg = pk == P_FS ? fs_base : pk == P_GS ? gs_base : 0;
    uint64_t want = (uint64_t)data_page + off - seg;
    unsigned int rex = 0x40, imm = f->imm;
    unsigned int disp_pos, disp_len = 0;

    memset(e, 0, sizeof(*e));
    e->target = (uint64_t)data_page + off;
    if (pk == P_LOCK || pk == P_LOCK_3E)
        e->bytes[e->len++] = 0xf0;
    if (pk == P_3E || pk == P_LOCK_3E)
        e->bytes[e->len++] = 0x3e;
    if (pk == P_2E)
        e->bytes[e->len++] = 0x2e;
    if (pk == P_FS)
        e->bytes[e->len++] = 0x64;
    if (pk == P_GS)
        e->bytes[e->len++] = 0x65;
    if (wk == W_16 && !f->byte_op) {
        e->bytes[e->len++] = 0x66;
        if (imm == 4)
            imm = 2;
    }
    if (wk == W_64 && !f->byte_op)
        rex |= 8;
    if (f->ext < 0 && reg >= 8)
        rex |= 4;

    unsigned int mod, rm, sib = 0;
    bool has_sib = false;
    switch (am) {
    case AM_BASE:
        mod = 0, rm = 3;
        s->gpr[3] = want;
        break;
    case AM_REXB_DISP8:
        mod = 1, rm = 1, rex |= 1;
        disp_len = 1;
        s->gpr[9] = want + 0x40;            /* disp8 = -0x40 */
        break;
    case AM_SIB_DISP32:
        mod = 2, rm = 4, rex |= 2, has_sib = true;
        sib = (3 << 6) | (2 << 3) | 6;      /* rsi + r10*8 */
        disp_len = 4;
        s->gpr[10] = 3;
        s->gpr[6] = want - 24 - 0x1234;     /* disp32 = 0x1234 */
        break;
    case AM_RIP:
        mod = 0, rm = 5;
        disp_len = 4;
        break;
    case AM_ABS32:
        mod = 0, rm = 4, has_sib = true;
        sib = (0 << 6) | (4 << 3) | 5;      /* no index, no base */
        disp_len = 4;
        break;
    case AM_R13_DISP8:
        mod = 1, rm = 5, rex |= 1;
        disp_len = 1;
        s->gpr[13] = want;
        break;
    default:                                /* AM_R12_INDEX */
        mod = 0, rm = 4, rex |= 2 | 1, has_sib = true;
        sib = (1 << 6) | (4 << 3) | 0;      /* r8 + r12*2 */
        s->gpr[12] = 0x10;
        s->gpr[8] = want - 0x20;
        break;
    }
    if (rex != 0x40 || (f->byte_op && f->ext < 0 && reg >= 4 && reg < 8 && (random() & 1)))
        e->bytes[e->len++] = (uint8_t)rex;
    for (unsigned int i = 0; i < f->opc_len; i++)
        e->bytes[e->len++] = f->opc[i];
    e->bytes[e->len++] = (uint8_t)((mod << 6) | ((f->ext >= 0 ? (unsigned int)f->ext : reg & 7) << 3) | rm);
    if (has_sib)
        e->bytes[e->len++] = (uint8_t)sib;
    disp_pos = e->len;
    e->len += disp_len;
    uint64_t immv = rnd64();
    if (f->op == PTWR_BTS || f->op == PTWR_BTR)
        immv &= 0xff;
    emit(e, immv, imm);
    /* Displacements that need the final length. */
    int64_t disp = 0;
    if (am == AM_REXB_DISP8)
        disp = -0x40;
    else if (am == AM_SIB_DISP32)
        disp = 0x1234;
    else if (am == AM_RIP)
        disp = (int64_t)want - (int64_t)((uint64_t)code_page + e->len);
    else if (am == AM_ABS32)
        disp = (int64_t)want;
    for (unsigned int i = 0; i < disp_len; i++)
        e->bytes[disp_pos + i] = (uint8_t)((uint64_t)disp >> (8 * i));
}

/* ------------------------------------------------------------------ */
/* One case: native run against emulation                               */

static unsigned int width_of(const struct form *f, enum width_kind wk)
{
    if (f->op == PTWR_CMPXCHG8B)
        return 8;
    if (f->byte_op)
        return 1;
    return wk == W_16 ? 2 : wk == W_64 ? 8 : 4;
}

static void run_case(const struct form *f, enum width_kind wk, enum prefix_kind pk,
                     enum addressing am, unsigned int round)
{
    struct host_state hs;
    struct encoded e;
    uint8_t init[4096], emu[4096];
    unsigned int w = width_of(f, wk);
    /* Any register but rsp and those the addressing uses. */
    static const unsigned int regs[] = { 0, 1, 2, 5, 7, 11, 14, 15 };
    unsigned int reg = regs[random() % ARRAY_SIZE(regs)];
    unsigned int off = 0x800 + 8 * (unsigned int)(random() % 8) + (w < 8 ? (unsigned int)(random() % (8 / w)) * w : 0);
    char what[160];

    for (unsigned int i = 0; i < 16; i++)
        hs.gpr[i] = rnd64();
    hs.rflags = 0x202 | (rnd64() & FL_ARITH);
    encode(&e, &hs, f, wk, pk, am, reg, off);
    if ((f->op == PTWR_BTS || f->op == PTWR_BTR) && f->imm == 0)
        hs.gpr[reg] = (uint64_t)((int64_t)(random() % 512) - 200);  /* reaches neighbours */
    for (unsigned int i = 0; i < sizeof(init); i++)
        init[i] = (uint8_t)random();
    if ((f->op == PTWR_CMPXCHG || f->op == PTWR_CMPXCHG8B) && (round & 1)) {
        /* Make the comparison succeed. */
        memcpy(&hs.gpr[0], init + off, w);
        if (w == 8 && f->op == PTWR_CMPXCHG8B) {
            uint64_t v;
            memcpy(&v, init + off, 8);
            hs.gpr[0] = (hs.gpr[0] & ~0xffffffffUL) | (v & 0xffffffffUL);
            hs.gpr[2] = (hs.gpr[2] & ~0xffffffffUL) | (v >> 32);
        } else if (w < 8) {
            uint64_t v = 0;
            memcpy(&v, init + off, w);
            hs.gpr[0] = (hs.gpr[0] & ~((1UL << (8 * w)) - 1)) | v;
        }
    }
    snprintf(what, sizeof(what), "%s, width %u, prefix %s, addressing %d, round %u",
             f->name, w, prefix_names[pk], (int)am, round);

    /* Emulation first (from the same registers and memory). */
    struct ptwr_regs pr = { .rflags = hs.rflags, .rip = (uint64_t)code_page,
                            .fs_base = fs_base, .gs_base = gs_base };
    memcpy(pr.gpr, hs.gpr, sizeof(pr.gpr));
    struct ptwr_insn insn;
    int rc = ptwr_decode(e.bytes, e.len, &pr, &insn);
    if (rc) {
        print_error("%s: decode returned %d\n", what, rc);
        fail();
    }
    assert_int_equal(insn.len, e.len);
    assert_int_equal(insn.width, w);
    assert_int_equal(insn.op, f->op);
    assert_int_equal(insn.lock, pk == P_LOCK || pk == P_LOCK_3E);
    memcpy(emu, init, sizeof(emu));
    uint64_t at = insn.addr - (uint64_t)data_page;
    if (insn.addr < (uint64_t)data_page || at + w > sizeof(emu)) {
        print_error("%s: emulated address %#lx outside the data page %p\n", what,
                    (unsigned long)insn.addr, (void *)data_page);
        fail();
    }
    uint64_t cur = 0, val = 0;
    memcpy(&cur, emu + at, w);
    if (ptwr_execute(&insn, cur, &val, &pr))
        memcpy(emu + at, &val, w);

    /* Then the CPU. */
    memcpy(code_page, e.bytes, e.len);
    code_page[e.len] = 0xc3;
    memcpy(data_page, init, sizeof(init));
    if (mprotect(code_page, 4096, PROT_READ | PROT_EXEC))
        fail_msg("mprotect");
    host_run(&hs, code_page);
    if (mprotect(code_page, 4096, PROT_READ | PROT_WRITE))
        fail_msg("mprotect");

    if (memcmp(emu, data_page, sizeof(emu))) {
        for (unsigned int i = 0; i < sizeof(emu); i++)
            if (emu[i] != data_page[i]) {
                print_error("%s: memory differs at +%#x: emulated %02x, cpu %02x "
                            "(operand at +%#x)\n", what, i, emu[i], data_page[i], off);
                break;
            }
        fail();
    }
    for (unsigned int i = 0; i < 16; i++) {
        if (i == 4 || pr.gpr[i] == hs.gpr[i])
            continue;
        print_error("%s: register %u: emulated %#lx, cpu %#lx\n", what, i,
                    (unsigned long)pr.gpr[i], (unsigned long)hs.gpr[i]);
        fail();
    }
    uint64_t defined = FL_ARITH & ~f->undefined;
    if ((pr.rflags ^ hs.rflags) & defined) {
        print_error("%s: flags: emulated %#lx, cpu %#lx (compared %#lx)\n", what,
                    (unsigned long)pr.rflags, (unsigned long)hs.rflags, (unsigned long)defined);
        fail();
    }
}

static void every_form_width_prefix_and_addressing(void **state)
{
    (void)state;
    unsigned int cases = 0;

    for (unsigned int fi = 0; fi < ARRAY_SIZE(forms); fi++) {
        const struct form *f = &forms[fi];
        for (int wk = 0; wk < W_COUNT; wk++) {
            if ((f->byte_op || f->op == PTWR_CMPXCHG8B) && wk != W_DEFAULT)
                continue;
            for (int pk = 0; pk < P_COUNT; pk++) {
                if (!f->lockable && (pk == P_LOCK || pk == P_LOCK_3E))
                    continue;
                for (int am = 0; am < AM_COUNT; am++) {
                    /* A displacement cannot reach the data from a far segment base. */
                    uint64_t seg = pk == P_FS ? fs_base : pk == P_GS ? gs_base : 0;
                    if (seg && (am == AM_RIP || am == AM_ABS32))
                        continue;
                    for (unsigned int round = 0; round < 4; round++) {
                        run_case(f, (enum width_kind)wk, (enum prefix_kind)pk,
                                 (enum addressing)am, round);
                        cases++;
                    }
                }
            }
        }
    }
    print_message("%u instruction cases agree with the CPU\n", cases);
}

/* ------------------------------------------------------------------ */
/* Refused forms                                                        */

static int decode_bytes(const uint8_t *b, unsigned int n)
{
    struct ptwr_regs r = { .gpr = { 0 } };
    struct ptwr_insn insn;
    return ptwr_decode(b, n, &r, &insn);
}

static void refuses_what_it_does_not_emulate(void **state)
{
    (void)state;
    static const struct { const char *name; uint8_t b[8]; unsigned int n; } cases[] = {
        { "add r/m,r",                { 0x48, 0x01, 0x03 }, 3 },
        { "sub r/m,imm8",             { 0x48, 0x83, 0x2b, 0x01 }, 4 },
        { "rep stosq",                { 0xf3, 0x48, 0xab }, 3 },
        { "address-size prefix",      { 0x67, 0x48, 0x89, 0x03 }, 4 },
        { "repne prefix",             { 0xf2, 0x48, 0x89, 0x03 }, 4 },
        { "register destination",     { 0x48, 0x89, 0xc3 }, 3 },
        { "cmpxchg16b",               { 0xf0, 0x48, 0x0f, 0xc7, 0x0b }, 5 },
        { "mov r/m,imm with /1",      { 0xc7, 0x0b, 1, 2, 3, 4 }, 6 },
        { "bt (no write)",            { 0x0f, 0xba, 0x23, 0x01 }, 4 },
        { "btc",                      { 0x0f, 0xbb, 0x03 }, 3 },
        { "adc r/m,imm8",             { 0x83, 0x13, 0x01 }, 3 },
        { "mov r,r/m (a load)",       { 0x48, 0x8b, 0x03 }, 3 },
        { "movabs moffs,rax",         { 0x48, 0xa3, 0, 0, 0, 0, 0, 0 }, 8 },
    };

    for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
        int rc = decode_bytes(cases[i].b, cases[i].n);
        if (rc != -EOPNOTSUPP) {
            print_error("%s: expected -EOPNOTSUPP, got %d\n", cases[i].name, rc);
            fail();
        }
    }
}

static void needs_every_byte_it_uses(void **state)
{
    (void)state;
    /* movq %rax, 0x12345678(%rbx) is 7 bytes; any prefix of it is short. */
    static const uint8_t full[] = { 0x48, 0x89, 0x83, 0x78, 0x56, 0x34, 0x12 };
    for (unsigned int n = 0; n < sizeof(full); n++)
        assert_int_equal(decode_bytes(full, n), -EFAULT);
    assert_int_equal(decode_bytes(full, sizeof(full)), 0);
    /* Fifteen prefixes and no opcode: longer than any instruction. */
    uint8_t many[16];
    memset(many, 0x3e, sizeof(many));
    assert_int_equal(decode_bytes(many, sizeof(many)), -EFAULT);
}

static void rex_before_a_legacy_prefix_is_ignored(void **state)
{
    (void)state;
    /* 48 66 89 03: the REX.W is dropped by the 66 after it: a 16-bit store. */
    static const uint8_t b[] = { 0x48, 0x66, 0x89, 0x03 };
    struct ptwr_regs r = { .gpr = { 0 } };
    struct ptwr_insn insn;
    assert_int_equal(ptwr_decode(b, sizeof(b), &r, &insn), 0);
    assert_int_equal(insn.width, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_form_width_prefix_and_addressing),
        cmocka_unit_test(refuses_what_it_does_not_emulate),
        cmocka_unit_test(needs_every_byte_it_uses),
        cmocka_unit_test(rex_before_a_legacy_prefix_is_ignored),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
