/* Boot self-tests (common/selftest.c), chosen by the boot option
 *   selftest=ITEM[,ITEM...]   boot | alloc | timer | fault-pf | fault-ud | fault-gp |
 *                             fault-de | fault-df | fault-bp
 * (boot: just stop once the hypervisor is up.) When any is requested, the machine stops after them with the overall
 * status (a fault-* item ends in the fatal-trap dump and a failure status). */
#ifndef HV_SELFTEST_H
#define HV_SELFTEST_H

/* Returns only when no self-test was requested. */
void selftest_run(void);

#endif
