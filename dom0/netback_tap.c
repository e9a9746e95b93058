/*
 * netback_tap.c - a vif's way out to a Linux bridge: a TAP device created
 * on /dev/net/tun and enslaved to the bridge over rtnetlink (libnl-route-3,
 * no `ip`).
 *
 * Owns: nothing after the call: the caller owns the returned descriptor;
 * closing it removes the device (it is not persistent), which also takes
 * it out of the bridge.
 * Order: the bridge is looked up first (a missing one, or a link that is
 * not a bridge, is the error at start), then the device is created,
 * enslaved and set up; any failure closes it again.
 */
#include "netback_tap.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>

static int nl_fail(char *err, size_t errlen, int nlerr, const char *fmt, const char *name)
{
	char what[120];

	snprintf(what, sizeof(what), fmt, name);
	snprintf(err, errlen, "%s: %s", what, nl_geterror(nlerr));
	return -EIO;
}

/* The bridge's ifindex: -ENODEV when there is no such link or it is not a bridge. */
static int find_bridge(struct nl_sock *sk, const char *bridge, int *ifindex, char *err, size_t errlen)
{
	struct rtnl_link *br = NULL;
	int rc = rtnl_link_get_kernel(sk, 0, bridge, &br);

	if (rc < 0) {
		snprintf(err, errlen, "bridge \"%s\" does not exist (%s)", bridge, nl_geterror(rc));
		return -ENODEV;
	}
	if (!rtnl_link_is_bridge(br)) {
		snprintf(err, errlen, "\"%s\" is not a bridge", bridge);
		rtnl_link_put(br);
		return -ENODEV;
	}
	*ifindex = rtnl_link_get_ifindex(br);
	rtnl_link_put(br);
	return 0;
}

static int create_tap(const char *ifname, int *fd, char *err, size_t errlen)
{
	struct ifreq ifr;
	int f = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (f < 0) {
		snprintf(err, errlen, "/dev/net/tun: %s", strerror(errno));
		return -errno;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(f, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		snprintf(err, errlen, "creating TAP device %s: %s", ifname, strerror(e));
		close(f);
		return -e;
	}
	*fd = f;
	return 0;
}

static int enslave_up(struct nl_sock *sk, const char *ifname, int br_index, char *err, size_t errlen)
{
	struct rtnl_link *tap = NULL, *change = NULL;
	int rc = rtnl_link_get_kernel(sk, 0, ifname, &tap);

	if (rc < 0)
		return nl_fail(err, errlen, rc, "TAP device %s vanished", ifname);
	rc = rtnl_link_enslave_ifindex(sk, br_index, rtnl_link_get_ifindex(tap));
	if (rc < 0) {
		rtnl_link_put(tap);
		return nl_fail(err, errlen, rc, "enslaving %s to its bridge", ifname);
	}
	change = rtnl_link_alloc();
	if (!change) {
		rtnl_link_put(tap);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rtnl_link_set_flags(change, IFF_UP);
	rc = rtnl_link_change(sk, tap, change, 0);
	rtnl_link_put(change);
	rtnl_link_put(tap);
	if (rc < 0)
		return nl_fail(err, errlen, rc, "setting %s up", ifname);
	return 0;
}

/* A connected rtnetlink socket, or NULL with err. */
static struct nl_sock *route_socket(char *err, size_t errlen)
{
	struct nl_sock *sk = nl_socket_alloc();
	int rc;

	if (!sk) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rc = nl_connect(sk, NETLINK_ROUTE);
	if (rc < 0) {
		nl_socket_free(sk);
		snprintf(err, errlen, "rtnetlink: %s", nl_geterror(rc));
		return NULL;
	}
	return sk;
}

int nb_bridge_check(const char *bridge, char *err, size_t errlen)
{
	struct nl_sock *sk = route_socket(err, errlen);
	int br_index = 0, rc;

	if (!sk)
		return -EIO;
	rc = find_bridge(sk, bridge, &br_index, err, errlen);
	nl_socket_free(sk);
	return rc;
}

int nb_tap_open(const char *ifname, const char *bridge, int *fd, char *err, size_t errlen)
{
	struct nl_sock *sk = route_socket(err, errlen);
	int br_index = 0, rc;

	if (!sk)
		return -EIO;
	rc = find_bridge(sk, bridge, &br_index, err, errlen);
	if (rc == 0)
		rc = create_tap(ifname, fd, err, errlen);
	if (rc == 0) {
		rc = enslave_up(sk, ifname, br_index, err, errlen);
		if (rc < 0)
			close(*fd);
	}
	nl_socket_free(sk);
	return rc;
}
