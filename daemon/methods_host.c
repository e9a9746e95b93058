/*
 * methods_host.c - methods about the host machine as a whole, as `xl info`
 * and `xl dmesg` give them: host.info (the machine's state, size, free
 * memory, CPUs, versions, and why the last machine was lost) and
 * host.dmesg (the tail of the hypervisor's log). No state changes.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../api/pvd_api.h"
#include "hv.h"
#include "methods.h"
#include "pvd.h"

#define DMESG_DEFAULT_BYTES 65536
#define DMESG_MAX_BYTES (1024 * 1024)

static json_object *str_or_null(const char *s)
{
	return s && s[0] ? json_object_new_string(s) : NULL;
}

int method_host_info(struct rpc_req *req, json_object *params, json_object **result)
{
	struct hv_host h;
	char boot_id[24];
	json_object *o;

	(void)params;
	hv_host(req->pvd, &h);
	o = json_object_new_object();
	json_object_object_add(o, "machine", json_object_new_string(h.state));
	json_object_object_add(o, "reason", str_or_null(h.why));
	json_object_object_add(o, "pvd_version", json_object_new_string(PVD_VERSION));
	json_object_object_add(o, "hypervisor_version", str_or_null(h.hv_version));
	if (!strcmp(h.state, "running")) {
		snprintf(boot_id, sizeof(boot_id), "%#" PRIx64, h.boot_id);
		json_object_object_add(o, "qemu_pid", json_object_new_int(h.qemu_pid));
		json_object_object_add(o, "memory_mib", json_object_new_int64((int64_t)(h.total_kib / 1024)));
		json_object_object_add(o, "free_mib", json_object_new_int64((int64_t)(h.free_kib / 1024)));
		json_object_object_add(o, "cpus", json_object_new_int((int)h.cpus));
		json_object_object_add(o, "tsc_khz", json_object_new_int64((int64_t)h.tsc_khz));
		json_object_object_add(o, "boot_id", json_object_new_string(boot_id));
	}
	json_object_object_add(o, "restarts", json_object_new_int((int)h.restarts));
	json_object_object_add(o, "last_death", str_or_null(h.last_death));
	json_object_object_add(o, "last_death_at", h.last_death_at ? json_object_new_int64(h.last_death_at) : NULL);
	json_object_object_add(o, "log", str_or_null(h.log_path));
	*result = o;
	return 0;
}

int method_host_dmesg(struct rpc_req *req, json_object *params, json_object **result)
{
	struct hv_host h;
	struct stat st;
	json_object *v, *o;
	int64_t want = DMESG_DEFAULT_BYTES;
	char *buf;
	ssize_t n;
	off_t from;
	int fd;

	if (json_object_object_get_ex(params, "bytes", &v))
		want = json_object_get_int64(v);
	hv_host(req->pvd, &h);
	if (!h.log_path[0])
		return rpc_fail(req, PVD_ERR_HYPERVISOR, NULL, "Hypervisor error: %s", h.why);
	fd = open(h.log_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return rpc_fail(req, PVD_ERR_HYPERVISOR, NULL, "Hypervisor error: the hypervisor's log %s: %s",
				h.log_path, fd >= 0 ? "not a regular file" : strerror(e));
	}
	from = st.st_size > want ? st.st_size - want : 0;
	buf = malloc((size_t)(st.st_size - from) + 1);
	n = buf ? pread(fd, buf, (size_t)(st.st_size - from), from) : -1;
	close(fd);
	if (n < 0) {
		free(buf);
		return rpc_fail(req, PVD_ERR_HYPERVISOR, NULL, "Hypervisor error: reading the hypervisor's log %s",
				h.log_path);
	}
	/* The serial log is ASCII; anything else (the firmware's escape
	 * sequences, a torn line) is shown as '?', so the reply is UTF-8. */
	for (ssize_t i = 0; i < n; i++)
		if ((unsigned char)buf[i] >= 0x80 || ((unsigned char)buf[i] < 0x20 && buf[i] != '\n' && buf[i] != '\t'))
			buf[i] = '?';
	buf[n] = '\0';
	o = json_object_new_object();
	json_object_object_add(o, "log", json_object_new_string_len(buf, (int)n));
	json_object_object_add(o, "size", json_object_new_int64((int64_t)st.st_size));
	json_object_object_add(o, "truncated", json_object_new_boolean(from > 0));
	free(buf);
	*result = o;
	return 0;
}
