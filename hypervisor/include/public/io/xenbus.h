/*
 * xenbus.h - the XenbusState values of a device's "state" nodes (the
 * facts of Xen's public io/xenbus.h, written for pvcore), shared by every
 * split driver (blkif.h, netif.h).
 */
#ifndef PVCORE_PUBLIC_IO_XENBUS_H
#define PVCORE_PUBLIC_IO_XENBUS_H

enum xenbus_state {
    XenbusStateUnknown = 0,
    XenbusStateInitialising = 1,
    XenbusStateInitWait = 2,
    XenbusStateInitialised = 3,
    XenbusStateConnected = 4,
    XenbusStateClosing = 5,
    XenbusStateClosed = 6,
    XenbusStateReconfiguring = 7,
    XenbusStateReconfigured = 8,
};

#endif
