/* Ticket spinlocks. spin_lock_irqsave is the form for locks also taken from
 * interrupt context. Lock order is documented at the top of each file that
 * takes more than one lock. */
#ifndef HV_SPINLOCK_H
#define HV_SPINLOCK_H

#include "asm/cpu.h"

typedef struct {
    volatile uint16_t next;
    volatile uint16_t owner;
} spinlock_t;

#define SPINLOCK_INIT { 0, 0 }

/* CPUs waiting for a lock with interrupts off still serve TLB flush
 * requests (arch/x86_64/smp.c), so a flusher holding a lock cannot
 * deadlock with a waiter. */
void smp_service_flush(void);

static inline void spin_lock(spinlock_t *l)
{
    uint16_t me = __atomic_fetch_add(&l->next, 1, __ATOMIC_ACQUIRE);
    while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != me) {
        smp_service_flush();
        cpu_relax();
    }
}

static inline bool spin_trylock(spinlock_t *l)
{
    uint16_t owner = __atomic_load_n(&l->owner, __ATOMIC_ACQUIRE);
    uint16_t expect = owner;
    if (__atomic_load_n(&l->next, __ATOMIC_ACQUIRE) != owner)
        return false;
    return __atomic_compare_exchange_n(&l->next, &expect, (uint16_t)(owner + 1), false,
                                       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static inline void spin_unlock(spinlock_t *l)
{
    __atomic_store_n(&l->owner, (uint16_t)(l->owner + 1), __ATOMIC_RELEASE);
}

static inline bool spin_is_locked(const spinlock_t *l)
{
    return l->next != l->owner;
}

static inline uint64_t spin_lock_irqsave(spinlock_t *l)
{
    uint64_t f = local_irq_save();
    spin_lock(l);
    return f;
}

static inline void spin_unlock_irqrestore(spinlock_t *l, uint64_t f)
{
    spin_unlock(l);
    local_irq_restore(f);
}

#endif
