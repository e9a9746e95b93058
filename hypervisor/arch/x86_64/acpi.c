/* ACPI soft-off.
 *
 * Owns: the PM1a/PM1b control ports and the S5 sleep type, found once at
 * boot: RSDP (copied by the loader) -> RSDT/XSDT -> FADT -> DSDT, whose AML
 * is scanned for the \_S5_ package. Every table is checksummed and
 * bounds-checked; anything missing simply leaves poweroff unavailable. */
#include "asm/cpu.h"
#include "hv/acpi.h"
#include "hv/bootinfo.h"
#include "hv/lib.h"
#include "hv/mm.h"
#include "hv/printk.h"
#include "hv/time.h"

struct acpi_header {
    char sig[4];
    uint32_t length;
    uint8_t revision;
    uint8_t checksum;
    char oem_id[6];
    char oem_table_id[8];
    uint32_t oem_revision;
    uint32_t creator_id;
    uint32_t creator_revision;
} __packed;

struct rsdp {
    char sig[8];
    uint8_t checksum;
    char oem_id[6];
    uint8_t revision;
    uint32_t rsdt;
    uint32_t length;
    uint64_t xsdt;
    uint8_t xchecksum;
    uint8_t reserved[3];
} __packed;

#define FADT_DSDT          40
#define FADT_SMI_CMD       48
#define FADT_ACPI_ENABLE   52
#define FADT_PM1A_CNT      64
#define FADT_PM1B_CNT      68
#define FADT_X_DSDT        140
#define MAX_TABLE_LEN      MiB(4)
#define PM1_SCI_EN         0x0001
#define PM1_SLP_EN         0x2000

static struct {
    bool ok;
    uint16_t pm1a_cnt, pm1b_cnt;
    uint16_t slp_typa, slp_typb;
    uint32_t smi_cmd;
    uint8_t acpi_enable;
} s5;

static bool checksum_ok(const void *p, size_t len)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum += ((const uint8_t *)p)[i];
    return sum == 0;
}

/* Map a whole table after checking its header; NULL if bad. */
static const struct acpi_header *map_table(paddr_t pa, const char *sig)
{
    if (!pa)
        return NULL;
    const struct acpi_header *h = ioremap(pa, sizeof(*h));
    if (h->length < sizeof(*h) || h->length > MAX_TABLE_LEN)
        return NULL;
    if (sig && memcmp(h->sig, sig, 4))
        return NULL;
    h = ioremap(pa, h->length);
    if (!checksum_ok(h, h->length)) {
        pr_warn("acpi: table %.4s at %#lx has a bad checksum, ignored", h->sig, pa);
        return NULL;
    }
    return h;
}

static const struct rsdp *rsdp_copy(void)
{
    const struct rsdp *r = (const struct rsdp *)boot_info.rsdp_copy;
    if (!boot_info.have_rsdp || memcmp(r->sig, "RSD PTR ", 8) || !checksum_ok(r, 20))
        return NULL;
    return r;
}

static const struct acpi_header *find_table(const struct rsdp *rsdp, const char *sig)
{
    bool use_xsdt = rsdp->revision >= 2 && rsdp->xsdt;
    const struct acpi_header *root = map_table(use_xsdt ? rsdp->xsdt : rsdp->rsdt,
                                               use_xsdt ? "XSDT" : "RSDT");
    if (!root)
        return NULL;
    size_t esz = use_xsdt ? 8 : 4;
    size_t n = (root->length - sizeof(*root)) / esz;
    const uint8_t *entries = (const uint8_t *)(root + 1);
    for (size_t i = 0; i < n; i++) {
        uint64_t pa = 0;
        memcpy(&pa, entries + i * esz, esz);
        const struct acpi_header *t = map_table(pa, sig);
        if (t)
            return t;
    }
    return NULL;
}

bool acpi_find_ioapic(uint32_t isa_irq, uint64_t *addr, uint32_t *gsi_base, uint32_t *gsi,
                      uint16_t *flags)
{
    const struct rsdp *rsdp = rsdp_copy();
    const struct acpi_header *madt = rsdp ? find_table(rsdp, "APIC") : NULL;
    bool found = false;

    *gsi = isa_irq;                 /* identity unless an override says otherwise */
    *flags = 0;
    if (!madt)
        return false;
    const uint8_t *p = (const uint8_t *)madt + sizeof(*madt) + 8;
    const uint8_t *end = (const uint8_t *)madt + madt->length;
    while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
        if (p[0] == 1 && p[1] >= 12 && !found) {        /* I/O APIC */
            uint32_t a, base;
            memcpy(&a, p + 4, 4);
            memcpy(&base, p + 8, 4);
            *addr = a;
            *gsi_base = base;
            found = true;
        } else if (p[0] == 2 && p[1] >= 10 && p[3] == isa_irq) {   /* override */
            memcpy(gsi, p + 4, 4);
            memcpy(flags, p + 8, 2);
        }
        p += p[1];
    }
    return found;
}

unsigned int acpi_cpu_apic_ids(uint32_t *ids, unsigned int max)
{
    const struct rsdp *rsdp = rsdp_copy();
    const struct acpi_header *madt = rsdp ? find_table(rsdp, "APIC") : NULL;
    unsigned int n = 0;

    if (!madt)
        return 0;
    const uint8_t *p = (const uint8_t *)madt + sizeof(*madt) + 8;
    const uint8_t *end = (const uint8_t *)madt + madt->length;
    while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
        /* Type 0: processor local APIC (proc id, APIC id, flags; bit 0 enabled). */
        if (p[0] == 0 && p[1] >= 8) {
            uint32_t flags;
            memcpy(&flags, p + 4, 4);
            if ((flags & 1) && n < max)
                ids[n++] = p[3];
        }
        p += p[1];
    }
    return n;
}

/* Parse the \_S5_ package in the DSDT's AML: NameOp "_S5_" PackageOp
 * PkgLength NumElements, then SLP_TYPa and SLP_TYPb as byte constants. */
static bool find_s5(const struct acpi_header *dsdt)
{
    const uint8_t *aml = (const uint8_t *)dsdt;
    size_t len = dsdt->length;

    for (size_t i = sizeof(*dsdt); i + 12 < len; i++) {
        if (memcmp(aml + i, "_S5_", 4) || aml[i + 4] != 0x12)
            continue;
        if (aml[i - 1] != 0x08 && !(aml[i - 1] == '\\' && aml[i - 2] == 0x08))
            continue;
        size_t p = i + 5;
        p += ((aml[p] >> 6) & 3) + 1;   /* PkgLength */
        p++;                            /* NumElements */
        uint16_t v[2];
        for (int k = 0; k < 2; k++) {
            if (p + 1 >= len)
                return false;
            if (aml[p] == 0x0a) {       /* BytePrefix */
                v[k] = aml[p + 1];
                p += 2;
            } else {                    /* ZeroOp/OneOp or a raw small value */
                v[k] = aml[p] == 0xff ? 0 : aml[p];
                p += 1;
            }
        }
        s5.slp_typa = v[0] & 7;
        s5.slp_typb = v[1] & 7;
        return true;
    }
    return false;
}

void acpi_init(void)
{
    if (!boot_info.have_rsdp) {
        pr_info("acpi: no RSDP from the loader; ACPI power-off unavailable");
        return;
    }
    const struct rsdp *rsdp = (const struct rsdp *)boot_info.rsdp_copy;
    if (memcmp(rsdp->sig, "RSD PTR ", 8) || !checksum_ok(rsdp, 20)) {
        pr_warn("acpi: the RSDP is invalid; ACPI power-off unavailable");
        return;
    }
    const struct acpi_header *fadt = find_table(rsdp, "FACP");
    if (!fadt || fadt->length < FADT_PM1B_CNT + 4) {
        pr_warn("acpi: no usable FADT; ACPI power-off unavailable");
        return;
    }
    const uint8_t *f = (const uint8_t *)fadt;
    uint32_t dsdt32, pm1a, pm1b;
    uint64_t dsdt = 0;
    memcpy(&dsdt32, f + FADT_DSDT, 4);
    memcpy(&pm1a, f + FADT_PM1A_CNT, 4);
    memcpy(&pm1b, f + FADT_PM1B_CNT, 4);
    memcpy(&s5.smi_cmd, f + FADT_SMI_CMD, 4);
    s5.acpi_enable = f[FADT_ACPI_ENABLE];
    if (fadt->length >= FADT_X_DSDT + 8)
        memcpy(&dsdt, f + FADT_X_DSDT, 8);
    if (!dsdt)
        dsdt = dsdt32;

    const struct acpi_header *d = map_table(dsdt, "DSDT");
    if (!d || !find_s5(d) || !pm1a || pm1a > 0xffff || pm1b > 0xffff) {
        pr_warn("acpi: no \\_S5 sleep state; ACPI power-off unavailable");
        return;
    }
    s5.pm1a_cnt = (uint16_t)pm1a;
    s5.pm1b_cnt = (uint16_t)pm1b;
    s5.ok = true;
    pr_info("acpi: %.6s, S5 via PM1a_CNT %#x (SLP_TYP %u)", rsdp->oem_id,
            s5.pm1a_cnt, s5.slp_typa);
}

static uint16_t inw(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

void acpi_poweroff(void)
{
    if (!s5.ok)
        return;
    if (!(inw(s5.pm1a_cnt) & PM1_SCI_EN) && s5.smi_cmd && s5.acpi_enable) {
        outb((uint16_t)s5.smi_cmd, s5.acpi_enable);
        for (int i = 0; i < 1000 && !(inw(s5.pm1a_cnt) & PM1_SCI_EN); i++)
            udelay(1000);
    }
    outw(s5.pm1a_cnt, (uint16_t)((s5.slp_typa << 10) | PM1_SLP_EN));
    if (s5.pm1b_cnt)
        outw(s5.pm1b_cnt, (uint16_t)((s5.slp_typb << 10) | PM1_SLP_EN));
    udelay(100000);
}
