/*
 * netback_tap.h - TAP devices for vifs on Linux bridges (netback_tap.c).
 */
#ifndef DOM0_NETBACK_TAP_H
#define DOM0_NETBACK_TAP_H

#include <stddef.h>

/* Create TAP device ifname (non-blocking descriptor in *fd, one frame per
 * read/write, no packet-info header), enslave it to bridge and set it up.
 * -ENODEV with "bridge ... does not exist" / "... is not a bridge" when
 * bridge is missing; other negative errno with the step that failed.
 * Closing *fd removes the device. */
int nb_tap_open(const char *ifname, const char *bridge, int *fd, char *err, size_t errlen);
/* 0 when bridge exists and is a bridge; else as nb_tap_open. */
int nb_bridge_check(const char *bridge, char *err, size_t errlen);

#endif
