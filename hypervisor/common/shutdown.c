/* Stopping the machine with a pass/fail status.
 *
 * Owns: the isa-debug-exit port (boot option debug-exit=PORT, e.g. 0xf4,
 * given by test builds whose QEMU has `-device isa-debug-exit`). Without it
 * the machine powers off through ACPI, and halts if that fails. */
#include "asm/cpu.h"
#include "hv/acpi.h"
#include "hv/bootinfo.h"
#include "hv/lib.h"
#include "hv/printk.h"
#include "hv/shutdown.h"

static uint16_t debug_exit_port;

void shutdown_init(void)
{
    const char *v = cmdline_get("debug-exit");
    uint64_t port;
    const char *end;

    if (!v)
        return;
    if (!parse_u64(v, &end, &port) || *end || port == 0 || port > 0xfffc) {
        pr_warn("boot: debug-exit=%s is not an I/O port; ignored", v);
        return;
    }
    debug_exit_port = (uint16_t)port;
}

void machine_exit(bool success)
{
    local_irq_disable();
    printk(LOG_INFO, "pvcore: stopping the machine (%s)", success ? "success" : "failure");
    if (debug_exit_port)
        outl(debug_exit_port, success ? DEBUG_EXIT_PASS : DEBUG_EXIT_FAIL);
    acpi_poweroff();
    printk(LOG_ERR, "pvcore: could not power off; halted");
    for (;;)
        __asm__ volatile("cli; hlt");
}
