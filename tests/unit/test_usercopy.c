/* Host unit tests for the hypervisor's guest copy routine
 * (hypervisor/arch/x86_64/usercopy.S, through usercopy_extable.S):
 *  - every length 0-80 at every source and destination alignment copies
 *    exactly those bytes and nothing around them;
 *  - a copy running into an inaccessible page stops there and reports
 *    bytes not copied (never 0), whichever part of the copy (the aligning
 *    head, the 8-byte body, the tail) faults, reading or writing; the
 *    SIGSEGV handler resumes at the routine's fixup like the hypervisor's
 *    #PF handler does. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>
#include <cmocka.h>

size_t copy_raw_with_fixup(void *dst, const void *src, size_t n);
extern const struct { uint64_t insn, fixup; } test_extable_start[], test_extable_end[];

static volatile unsigned int faults_fixed;

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
    ucontext_t *uc = ctx;
    uint64_t rip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];

    (void)sig;
    (void)si;
    for (const __typeof__(test_extable_start[0]) *e = test_extable_start; e < test_extable_end; e++)
        if (e->insn == rip) {
            uc->uc_mcontext.gregs[REG_RIP] = (greg_t)e->fixup;
            faults_fixed++;
            return;
        }
    abort();
}

static void copies_every_length_and_alignment(void **state)
{
    uint8_t src[128], dst[128], want[128];

    (void)state;
    for (size_t i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)(i * 7 + 1);
    for (size_t so = 0; so < 8; so++)
        for (size_t d_off = 0; d_off < 8; d_off++)
            for (size_t n = 0; n <= 80; n++) {
                memset(dst, 0xee, sizeof(dst));
                memset(want, 0xee, sizeof(want));
                memcpy(want + 8 + d_off, src + so, n);
                assert_int_equal(copy_raw_with_fixup(dst + 8 + d_off, src + so, n), 0);
                assert_memory_equal(dst, want, sizeof(dst));
            }
}

/* Two pages, the second inaccessible: copies that end in it fault. */
static void stops_at_a_fault(void **state)
{
    long page = sysconf(_SC_PAGESIZE);
    uint8_t *area = mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint8_t *edge = area + page, buf[256];
    struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO }, old;

    (void)state;
    assert_true(area != MAP_FAILED);
    assert_int_equal(mprotect(edge, (size_t)page, PROT_NONE), 0);
    assert_int_equal(sigaction(SIGSEGV, &sa, &old), 0);
    memset(area, 0x5a, (size_t)page);
    /* lengths 1-100 reaching 1-40 bytes past the edge, every alignment */
    for (size_t over = 1; over <= 40; over++)
        for (size_t n = over; n <= 100; n += 3) {
            unsigned int before = faults_fixed;
            size_t in = n - over;               /* bytes before the edge */
            size_t left = copy_raw_with_fixup(buf, edge - in, n);

            assert_int_equal(faults_fixed, before + 1);
            assert_true(left >= over && left <= n);
            before = faults_fixed;
            left = copy_raw_with_fixup(edge - in, buf, n);
            assert_int_equal(faults_fixed, before + 1);
            assert_true(left >= over && left <= n);
        }
    assert_int_equal(sigaction(SIGSEGV, &old, NULL), 0);
    munmap(area, 2 * (size_t)page);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(copies_every_length_and_alignment),
        cmocka_unit_test(stops_at_a_fault),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
