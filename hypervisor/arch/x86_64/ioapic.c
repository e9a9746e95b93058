/* I/O APIC: routes the one legacy line the hypervisor uses (the doorbell
 * UART's IRQ) to a LAPIC vector. Owns the I/O APIC mapping; all other
 * redirection entries are masked at first use. Called on the boot CPU
 * before other CPUs run. */
#include "hv/acpi.h"
#include "hv/ioapic.h"
#include "hv/mm.h"
#include "hv/printk.h"

#define IOREGSEL  0x00
#define IOWIN     0x10
#define REG_VER   0x01
#define REDIR(n)  (0x10 + 2 * (n))
#define RTE_MASKED      (1u << 16)
#define RTE_LEVEL       (1u << 15)
#define RTE_ACTIVE_LOW  (1u << 13)

static volatile uint32_t *ioapic;
static uint32_t nr_pins;

static uint32_t io_read(uint32_t reg)
{
    ioapic[IOREGSEL / 4] = reg;
    return ioapic[IOWIN / 4];
}

static void io_write(uint32_t reg, uint32_t v)
{
    ioapic[IOREGSEL / 4] = reg;
    ioapic[IOWIN / 4] = v;
}

bool ioapic_route_isa_irq(uint32_t isa_irq, uint8_t vector, uint32_t apic_id)
{
    uint64_t addr = 0;
    uint32_t gsi_base = 0, gsi;
    uint16_t flags;

    if (!acpi_find_ioapic(isa_irq, &addr, &gsi_base, &gsi, &flags)) {
        pr_warn("ioapic: none listed by ACPI; IRQ %u not routed", isa_irq);
        return false;
    }
    if (!ioapic) {
        ioapic = ioremap(addr, 0x20);
        nr_pins = ((io_read(REG_VER) >> 16) & 0xff) + 1;
        for (uint32_t i = 0; i < nr_pins; i++)
            io_write(REDIR(i), RTE_MASKED);
    }
    if (gsi < gsi_base || gsi - gsi_base >= nr_pins) {
        pr_warn("ioapic: IRQ %u arrives on GSI %u, outside this I/O APIC", isa_irq, gsi);
        return false;
    }
    uint32_t pin = gsi - gsi_base;
    uint32_t lo = vector;
    /* MADT flags: polarity bits 0-1 (3 = active low), trigger 2-3 (3 = level). */
    if ((flags & 3) == 3)
        lo |= RTE_ACTIVE_LOW;
    if (((flags >> 2) & 3) == 3)
        lo |= RTE_LEVEL;
    io_write(REDIR(pin) + 1, apic_id << 24);
    io_write(REDIR(pin), lo);
    pr_info("ioapic: IRQ %u (GSI %u) -> vector %#x on APIC %u", isa_irq, gsi, vector, apic_id);
    return true;
}
