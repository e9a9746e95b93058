/* Error numbers. The hypervisor returns negative errno values to guests and
 * to Domain 0; the numbers are the Linux/Xen ones (Xen's public errno.h). */
#ifndef HV_ERRNO_H
#define HV_ERRNO_H

#define EPERM    1
#define ENOENT   2
#define ESRCH    3
#define EINTR    4
#define EIO      5
#define ENXIO    6
#define E2BIG    7
#define EAGAIN  11
#define ENOMEM  12
#define EACCES  13
#define EFAULT  14
#define EBUSY   16
#define EEXIST  17
#define EXDEV   18
#define ENODEV  19
#define EINVAL  22
#define ENFILE  23
#define EMFILE  24
#define ENOSPC  28
#define ERANGE  34
#define EDEADLK 35
#define ENOSYS  38
#define ENODATA 61
#define ETIME   62
#define EOVERFLOW 75
/* Internal: a batch stopped for pending work (hv/batch.h); never returned
 * to a guest, which gets a continuation instead. */
#define ERESTART 85
#define EOPNOTSUPP 95
#define EALREADY 114
#define EINPROGRESS 115

#endif
