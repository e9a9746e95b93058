/* The instruction decoder and executor of writable page-table emulation
 * (interface and the forms covered: asm/ptwr_insn.h).
 *
 * Owns: nothing but its arguments. Decoding reads at most avail bytes and
 * fails rather than guess; execution follows the architectural results
 * (SDM vol. 2) for the destination, the registers written and the flags
 * that are defined. Flags an instruction leaves undefined are left as
 * they were (bts/btr) or cleared (AF of or/and/xor). */
#include "asm/ptwr_insn.h"
#include "hv/errno.h"

#define FL_CF (1UL << 0)
#define FL_PF (1UL << 2)
#define FL_AF (1UL << 4)
#define FL_ZF (1UL << 6)
#define FL_SF (1UL << 7)
#define FL_OF (1UL << 11)
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

#define REX_W 8
#define REX_R 4
#define REX_X 2
#define REX_B 1

struct cursor {
    const uint8_t *code;
    unsigned int avail, pos;
    bool short_read;
};

static uint64_t take(struct cursor *c, unsigned int n)
{
    uint64_t v = 0;

    if (c->pos + n > c->avail || c->pos + n > PTWR_MAX_INSN) {
        c->short_read = true;
        c->pos += n;
        return 0;
    }
    for (unsigned int i = 0; i < n; i++)
        v |= (uint64_t)c->code[c->pos + i] << (8 * i);
    c->pos += n;
    return v;
}

static uint64_t width_mask(unsigned int width)
{
    return width == 8 ? ~0UL : (1UL << (8 * width)) - 1;
}

static int64_t sign_extend(uint64_t v, unsigned int bytes)
{
    unsigned int shift = 64 - 8 * bytes;
    return (int64_t)(v << shift) >> shift;
}

/* The value of a register operand of `width` bytes. */
static uint64_t reg_read(const struct ptwr_regs *r, unsigned int reg, bool high_byte,
                         unsigned int width)
{
    if (high_byte)
        return (r->gpr[reg] >> 8) & 0xff;
    return r->gpr[reg] & width_mask(width);
}

/* A register write of `width` bytes: 4 zero-extends, 1 and 2 merge. */
static void reg_write(struct ptwr_regs *r, unsigned int reg, bool high_byte,
                      unsigned int width, uint64_t v)
{
    uint64_t *g = &r->gpr[reg];

    if (high_byte)
        *g = (*g & ~0xff00UL) | ((v & 0xff) << 8);
    else if (width == 4)
        *g = v & 0xffffffffUL;
    else
        *g = (*g & ~width_mask(width)) | (v & width_mask(width));
}

/* Effective address of the ModRM memory operand; c->pos is just past the
 * ModRM byte. The RIP-relative displacement is added by the caller once
 * the length is known (*rip_relative). */
static uint64_t modrm_address(struct cursor *c, const struct ptwr_regs *r, uint8_t modrm,
                              unsigned int rex, bool *rip_relative)
{
    unsigned int mod = modrm >> 6, rm = modrm & 7;
    uint64_t ea = 0;

    *rip_relative = false;
    if (rm == 4) {
        uint8_t sib = (uint8_t)take(c, 1);
        unsigned int index = ((sib >> 3) & 7) | (rex & REX_X ? 8 : 0);
        unsigned int base = (sib & 7) | (rex & REX_B ? 8 : 0);
        if (index != 4)
            ea += r->gpr[index] << (sib >> 6);
        if ((sib & 7) == 5 && mod == 0)
            ea += (uint64_t)sign_extend(take(c, 4), 4);
        else
            ea += r->gpr[base];
    } else if (rm == 5 && mod == 0) {
        *rip_relative = true;
        ea += (uint64_t)sign_extend(take(c, 4), 4);
    } else {
        ea += r->gpr[rm | (rex & REX_B ? 8 : 0)];
    }
    if (mod == 1)
        ea += (uint64_t)sign_extend(take(c, 1), 1);
    else if (mod == 2)
        ea += (uint64_t)sign_extend(take(c, 4), 4);
    return ea;
}

/* The operation of an opcode, with whether it takes a byte operand and
 * what its source is; false if the opcode is not one of ours. */
enum src_kind { SRC_REG, SRC_IMM8, SRC_IMMZ, SRC_IMM8_SX, SRC_NONE };

static bool classify(unsigned int opc, unsigned int ext, enum ptwr_op *op, bool *byte_op,
                     enum src_kind *src)
{
    static const enum ptwr_op group1[8] = {
        [1] = PTWR_OR, [4] = PTWR_AND, [6] = PTWR_XOR,
    };

    *byte_op = false;
    *src = SRC_REG;
    switch (opc) {
    case 0x88: *byte_op = true; /* fall through */
    case 0x89: *op = PTWR_MOV; return true;
    case 0x86: *byte_op = true; /* fall through */
    case 0x87: *op = PTWR_XCHG; return true;
    case 0x08: *byte_op = true; /* fall through */
    case 0x09: *op = PTWR_OR; return true;
    case 0x20: *byte_op = true; /* fall through */
    case 0x21: *op = PTWR_AND; return true;
    case 0x30: *byte_op = true; /* fall through */
    case 0x31: *op = PTWR_XOR; return true;
    case 0xc6:
    case 0xc7:
        if (ext != 0)
            return false;
        *op = PTWR_MOV;
        *byte_op = opc == 0xc6;
        *src = opc == 0xc6 ? SRC_IMM8 : SRC_IMMZ;
        return true;
    case 0x80:
    case 0x81:
    case 0x83:
        if (ext != 1 && ext != 4 && ext != 6)
            return false;
        *op = group1[ext];
        *byte_op = opc == 0x80;
        *src = opc == 0x80 ? SRC_IMM8 : opc == 0x81 ? SRC_IMMZ : SRC_IMM8_SX;
        return true;
    case 0x1b0: *byte_op = true; /* fall through */
    case 0x1b1: *op = PTWR_CMPXCHG; return true;
    case 0x1ab: *op = PTWR_BTS; return true;
    case 0x1b3: *op = PTWR_BTR; return true;
    case 0x1ba:
        if (ext != 5 && ext != 6)
            return false;
        *op = ext == 5 ? PTWR_BTS : PTWR_BTR;
        *src = SRC_IMM8;
        return true;
    case 0x1c7:
        if (ext != 1)
            return false;
        *op = PTWR_CMPXCHG8B;
        *src = SRC_NONE;
        return true;
    default:
        return false;
    }
}

int ptwr_decode(const uint8_t *code, unsigned int avail, const struct ptwr_regs *regs,
                struct ptwr_insn *insn)
{
    struct cursor c = { .code = code, .avail = avail };
    unsigned int rex = 0, opc;
    bool opsize16 = false;
    uint64_t seg_base = 0;

    *insn = (struct ptwr_insn){ .lock = false };
    /* Legacy prefixes, then at most one REX right before the opcode (a REX
     * followed by a legacy prefix is ignored, as by the CPU). */
    for (;;) {
        uint8_t b = (uint8_t)take(&c, 1);
        if (c.short_read)
            return -EFAULT;
        if ((b & 0xf0) == 0x40) {
            rex = b;
            continue;
        }
        if (b == 0xf0)
            insn->lock = true;
        else if (b == 0x66)
            opsize16 = true;
        else if (b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e)
            seg_base = 0;
        else if (b == 0x64)
            seg_base = regs->fs_base;
        else if (b == 0x65)
            seg_base = regs->gs_base;
        else if (b == 0xf2 || b == 0xf3 || b == 0x67)
            return -EOPNOTSUPP;
        else {
            opc = b;
            break;
        }
        rex = 0;
    }
    if (opc == 0x0f)
        opc = 0x100 | (unsigned int)take(&c, 1);
    uint8_t modrm = (uint8_t)take(&c, 1);
    if (c.short_read)
        return -EFAULT;

    enum src_kind src;
    bool byte_op, rip_relative;
    if (!classify(opc, (modrm >> 3) & 7, &insn->op, &byte_op, &src) || (modrm >> 6) == 3)
        return -EOPNOTSUPP;
    insn->width = byte_op ? 1 : (rex & REX_W) ? 8 : opsize16 ? 2 : 4;
    if (insn->op == PTWR_CMPXCHG8B) {
        if (rex & REX_W)
            return -EOPNOTSUPP;     /* cmpxchg16b: two entries at once */
        insn->width = 8;
    }
    uint64_t ea = modrm_address(&c, regs, modrm, rex, &rip_relative);

    insn->reg = ((modrm >> 3) & 7) | (rex & REX_R ? 8 : 0);
    insn->high_byte = byte_op && !rex && insn->reg >= 4 && insn->reg < 8;
    if (insn->high_byte)
        insn->reg -= 4;
    switch (src) {
    case SRC_REG:
        insn->src = reg_read(regs, insn->reg, insn->high_byte, insn->width);
        break;
    case SRC_IMM8:
        insn->src = take(&c, 1);
        break;
    case SRC_IMM8_SX:
        insn->src = (uint64_t)sign_extend(take(&c, 1), 1) & width_mask(insn->width);
        break;
    case SRC_IMMZ: {
        unsigned int n = insn->width == 2 ? 2 : 4;
        insn->src = (uint64_t)sign_extend(take(&c, n), n) & width_mask(insn->width);
        break;
    }
    case SRC_NONE:
        insn->src = (regs->gpr[1] << 32) | (regs->gpr[3] & 0xffffffffUL);
        break;
    }
    if (c.short_read)
        return -EFAULT;
    insn->len = c.pos;
    if (rip_relative)
        ea += regs->rip + insn->len;

    if (insn->op == PTWR_BTS || insn->op == PTWR_BTR) {
        unsigned int bits = 8 * insn->width;
        if (src == SRC_REG) {
            /* The register is a signed bit offset from the operand. */
            int64_t off = sign_extend(insn->src, insn->width);
            int64_t units = off >> __builtin_ctz(bits);    /* floor(off / bits) */
            ea += (uint64_t)units * insn->width;
            insn->bit = (unsigned int)((uint64_t)off & (bits - 1));
        } else {
            insn->bit = (unsigned int)(insn->src & (bits - 1));
        }
    }
    insn->addr = ea + seg_base;
    return 0;
}

static bool parity_even(uint64_t v)
{
    return !__builtin_parity((unsigned int)(v & 0xff));
}

/* SF, ZF, PF of a result of `width` bytes. */
static uint64_t szp_flags(uint64_t res, unsigned int width)
{
    uint64_t f = 0;

    res &= width_mask(width);
    if (!res)
        f |= FL_ZF;
    if (res >> (8 * width - 1))
        f |= FL_SF;
    if (parity_even(res))
        f |= FL_PF;
    return f;
}

/* Flags of `cmp a, b` (a - b) on `width` bytes. */
static uint64_t cmp_flags(uint64_t a, uint64_t b, unsigned int width)
{
    uint64_t m = width_mask(width), res = (a - b) & m;
    unsigned int top = 8 * width - 1;
    uint64_t f = szp_flags(res, width);

    if ((a & m) < (b & m))
        f |= FL_CF;
    if ((((a ^ b) & (a ^ res)) >> top) & 1)
        f |= FL_OF;
    if ((a ^ b ^ res) & 0x10)
        f |= FL_AF;
    return f;
}

bool ptwr_execute(const struct ptwr_insn *insn, uint64_t cur, uint64_t *val,
                  struct ptwr_regs *regs)
{
    unsigned int w = insn->width;
    uint64_t m = width_mask(w);

    cur &= m;
    switch (insn->op) {
    case PTWR_MOV:
        *val = insn->src;
        return true;
    case PTWR_XCHG:
        *val = insn->src;
        reg_write(regs, insn->reg, insn->high_byte, w, cur);
        return true;
    case PTWR_OR:
    case PTWR_AND:
    case PTWR_XOR:
        *val = insn->op == PTWR_OR ? cur | insn->src :
               insn->op == PTWR_AND ? cur & insn->src : cur ^ insn->src;
        regs->rflags = (regs->rflags & ~FL_ARITH) | szp_flags(*val, w);
        return true;
    case PTWR_BTS:
    case PTWR_BTR:
        regs->rflags = (regs->rflags & ~FL_CF) | ((cur >> insn->bit) & 1 ? FL_CF : 0);
        *val = insn->op == PTWR_BTS ? cur | (1UL << insn->bit) : cur & ~(1UL << insn->bit);
        return true;
    case PTWR_CMPXCHG: {
        uint64_t acc = regs->gpr[0] & m;
        regs->rflags = (regs->rflags & ~FL_ARITH) | cmp_flags(acc, cur, w);
        if (acc == cur) {
            *val = insn->src;
            return true;
        }
        reg_write(regs, 0, false, w, cur);
        return false;
    }
    case PTWR_CMPXCHG8B: {
        uint64_t expect = (regs->gpr[2] << 32) | (regs->gpr[0] & 0xffffffffUL);
        if (expect == cur) {
            regs->rflags |= FL_ZF;
            *val = insn->src;
            return true;
        }
        regs->rflags &= ~FL_ZF;
        regs->gpr[0] = cur & 0xffffffffUL;
        regs->gpr[2] = cur >> 32;
        return false;
    }
    }
    return false;
}
