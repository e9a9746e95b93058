/*
 * config.h - domain configs: JSON or XML text in, a validated normalized
 * json-c tree and a typed struct domain_config out (see config.c).
 */
#ifndef PVD_CONFIG_H
#define PVD_CONFIG_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "schema.h"

#define CONFIG_MAX_TEXT   (256 * 1024)
#define CONFIG_MAX_DISKS  16
#define CONFIG_MAX_VIFS   8
#define CONFIG_MAX_VIF_IPS 4

enum config_format { CONFIG_JSON, CONFIG_XML };

struct config_checker;

struct disk_config {
	const char *name;
	const char *path;	/* NULL: pvd chooses one in its pool */
	long long size_mib, quota_mib, iops, bps, burst;
	int readonly;
	int index;		/* the guest's device: 0 = xvda (config "device", else the first free) */
	int device_fixed;	/* "device" was given */
};

struct vif_config {
	const char *bridge;
	const char *mac;	/* NULL: generated once, then kept */
	long long rate, burst;
	int weight;
	int devid;		/* device/vif/N (config "devid", else the lowest free) */
	int nips;		/* "ips": the IPv4 addresses it may send from (anti-spoofing) */
	uint32_t ips[CONFIG_MAX_VIF_IPS];	/* host byte order */
	int devid_fixed;	/* "devid" was given */
};

/* Strings borrow from the normalized tree the struct was read from. */
struct domain_config {
	const char *name, *kernel, *ramdisk, *cmdline;
	long long memory_mib, maxmem_mib;
	int vcpus, weight, cap;
	const char *on_poweroff, *on_reboot, *on_crash;
	int autostart;
	long long disk_quota_mib;	/* the domain's writable disks together; 0: none */
	int ndisks, nvifs;
	struct disk_config disks[CONFIG_MAX_DISKS];
	struct vif_config vifs[CONFIG_MAX_VIFS];
};

/* Built from the embedded schema documents; NULL with err on failure. */
struct config_checker *config_checker_new(char *err, size_t errlen);
void config_checker_free(struct config_checker *c);

/* xml when the first non-blank character is '<', json otherwise. */
enum config_format config_detect_format(const char *text, size_t len);
const char *config_format_name(enum config_format f);
int config_format_parse(const char *name, enum config_format *out);

/*
 * Validate a config. Returns the normalized tree (caller owns it) or NULL
 * with rep naming every problem by JSON pointer (JSON) or XPath (XML).
 */
json_object *config_check_text(struct config_checker *c, const char *text, size_t len,
			       enum config_format fmt, struct schema_report *rep);
json_object *config_check_object(struct config_checker *c, json_object *config,
				 struct schema_report *rep);

/* Read a normalized tree (as returned above) into a typed struct. */
int domain_config_read(json_object *normalized, struct domain_config *out);

/* Read a whole file (at most CONFIG_MAX_TEXT bytes); malloc'd, NUL-terminated. */
char *config_read_file(const char *path, size_t *len, char *err, size_t errlen);

#endif
