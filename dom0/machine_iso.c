/*
 * machine_iso.c - builds $STATE/machine.iso (see machine_iso.h).
 *
 * The image tree is assembled in $STATE/iso.root (removed before and
 * after), grub-mkrescue writes machine.iso.tmp, which is renamed over
 * machine.iso only when complete. Inputs that end up on a GRUB line
 * (command line, module arguments, module file names) are checked first:
 * nothing is written for a bad config.
 */
#include "machine_iso.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dom0_error.h"
#include "machine.h"
#include "process.h"
#include "statefile.h"

#define GRUB_PLATFORM_DIR "/usr/lib/grub/i386-pc"
#define MODULE_NAME_MAX 200     /* leaves room for the "N-" prefix in the image */

int machine_iso_check_args(const char *what, const char *text, char *err, size_t errlen)
{
    const char *p;

    for (p = text; *p; p++) {
        unsigned char c = (unsigned char)*p;

        if (c < 0x20 || c > 0x7e || strchr("\"'\\$;{}`#|&<>", c))
            return dom0_fail(err, errlen, EINVAL,
                             "%s: character %#x at offset %zu is not allowed on a GRUB line",
                             what, c, (size_t)(p - text));
    }
    return 0;
}

static int check_module_name(const char *name, char *err, size_t errlen)
{
    const char *p;

    if (!*name || *name == '.' || strlen(name) > MODULE_NAME_MAX)
        return dom0_fail(err, errlen, EINVAL, "module file name '%s' is not usable", name);
    for (p = name; *p; p++) {
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *p))
            return dom0_fail(err, errlen, EINVAL,
                             "module file name '%s': only letters, digits, '.', '_', '-'", name);
    }
    return 0;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash ? slash + 1 : path;
}

static int copy_file(const char *src, const char *dst, char *err, size_t errlen)
{
    char buf[65536];
    int in, out, rc = 0;
    ssize_t n;

    in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return dom0_fail(err, errlen, errno, "cannot read %s: %s", src, strerror(errno));
    out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0) {
        rc = dom0_fail(err, errlen, errno, "cannot create %s: %s", dst, strerror(errno));
        close(in);
        return rc;
    }
    while ((n = read(in, buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || write(out, buf, (size_t)n) != n) {
            rc = dom0_fail(err, errlen, errno ? errno : EIO, "copying %s to %s: %s", src,
                           dst, strerror(errno ? errno : EIO));
            break;
        }
    }
    close(in);
    if (close(out) < 0 && rc == 0)
        rc = dom0_fail(err, errlen, errno, "writing %s: %s", dst, strerror(errno));
    return rc;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

static void remove_tree(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int make_dirs(const char *root, const char *sub, char *err, size_t errlen)
{
    char path[PATH_MAX];
    const char *p;

    for (p = sub;; p++) {
        if (*p == '/' || *p == '\0') {
            if ((size_t)snprintf(path, sizeof(path), "%s/%.*s", root, (int)(p - sub), sub) >=
                sizeof(path))
                return dom0_fail(err, errlen, ENAMETOOLONG, "ISO tree %s: path too long", root);
            if (mkdir(path, 0700) < 0 && errno != EEXIST)
                return dom0_fail(err, errlen, errno, "mkdir %s: %s", path, strerror(errno));
        }
        if (*p == '\0')
            return 0;
    }
}

/* Write grub.cfg and copy the ELF and modules into root. */
static int populate_tree(const char *root, const char *hv_elf, const char *cmdline,
                         const struct machine_module *modules, size_t nr_modules,
                         char *err, size_t errlen)
{
    char path[PATH_MAX], cfg_path[PATH_MAX], name[MODULE_NAME_MAX + 64];
    FILE *cfg;
    size_t i;
    int rc;

    if ((rc = make_dirs(root, "boot/grub", err, errlen)) < 0 ||
        (rc = make_dirs(root, "boot/modules", err, errlen)) < 0)
        return rc;
    if (state_path(path, sizeof(path), root, "boot/pvcore.elf") < 0 ||
        state_path(cfg_path, sizeof(cfg_path), root, "boot/grub/grub.cfg") < 0)
        return dom0_fail(err, errlen, ENAMETOOLONG, "ISO tree %s: path too long", root);
    if ((rc = copy_file(hv_elf, path, err, errlen)) < 0)
        return rc;
    cfg = fopen(cfg_path, "we");
    if (!cfg)
        return dom0_fail(err, errlen, errno, "cannot create %s: %s", cfg_path,
                         strerror(errno));
    fprintf(cfg, "serial --unit=0 --speed=115200\nterminal_input serial\n"
                 "terminal_output serial\nset timeout=0\nmenuentry \"pvcore\" {\n"
                 "  multiboot2 /boot/pvcore.elf %s\n", cmdline ? cmdline : "");
    for (i = 0; i < nr_modules; i++)
        fprintf(cfg, "  module2 /boot/modules/%zu-%s %s\n", i, base_name(modules[i].path),
                modules[i].args ? modules[i].args : "");
    fprintf(cfg, "  boot\n}\n");
    if (fclose(cfg) != 0)
        return dom0_fail(err, errlen, EIO, "writing %s failed", cfg_path);
    for (i = 0; i < nr_modules; i++) {
        int n = snprintf(name, sizeof(name), "boot/modules/%zu-%s", i,
                         base_name(modules[i].path));

        if (n < 0 || (size_t)n >= sizeof(name) || state_path(path, sizeof(path), root, name) < 0)
            return dom0_fail(err, errlen, ENAMETOOLONG, "ISO tree %s: path too long", root);
        if ((rc = copy_file(modules[i].path, path, err, errlen)) < 0)
            return rc;
    }
    return 0;
}

static int run_mkrescue(const char *state_dir, const char *root, const char *tmp_iso,
                        char *err, size_t errlen)
{
    char prog[PATH_MAX], log[PATH_MAX], tail[512];
    char *argv[] = { "grub-mkrescue", "-d", GRUB_PLATFORM_DIR, "-o", (char *)tmp_iso,
                     (char *)root, NULL };
    pid_t pid;
    int rc, status;

    if (process_find_program("grub-mkrescue", prog, sizeof(prog)) < 0)
        return dom0_fail(err, errlen, ENOENT, "grub-mkrescue not found in PATH "
                         "(Debian packages grub-common, grub-pc-bin, xorriso)");
    state_path(log, sizeof(log), state_dir, STATE_ISO_LOG);
    rc = process_spawn(prog, argv, log, -1, &pid, err, errlen);
    if (rc < 0)
        return rc;
    status = process_wait(pid);
    if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char *nl;

        if (state_read(state_dir, STATE_ISO_LOG, tail, sizeof(tail), 1) < 0)
            tail[0] = '\0';
        while ((nl = strrchr(tail, '\n')) && nl[1] == '\0')
            *nl = '\0';
        nl = strrchr(tail, '\n');
        return dom0_fail(err, errlen, EIO, "grub-mkrescue failed (status %#x): %s", status,
                         nl ? nl + 1 : tail);
    }
    return 0;
}

int machine_iso_build(const char *state_dir, const char *hv_elf, const char *cmdline,
                      const struct machine_module *modules, size_t nr_modules,
                      char *err, size_t errlen)
{
    char root[PATH_MAX], iso[PATH_MAX], tmp_iso[PATH_MAX + 8];
    size_t i;
    int rc;

    if (cmdline && (rc = machine_iso_check_args("cmdline", cmdline, err, errlen)) < 0)
        return rc;
    for (i = 0; i < nr_modules; i++) {
        if (!modules[i].path)
            return dom0_fail(err, errlen, EINVAL, "module %zu has no path", i);
        if ((rc = check_module_name(base_name(modules[i].path), err, errlen)) < 0 ||
            (modules[i].args &&
             (rc = machine_iso_check_args("module arguments", modules[i].args, err,
                                          errlen)) < 0))
            return rc;
    }
    if (access(hv_elf, R_OK) != 0)
        return dom0_fail(err, errlen, errno, "hypervisor image %s: %s", hv_elf,
                         strerror(errno));
    state_path(root, sizeof(root), state_dir, STATE_ISO_ROOT);
    state_path(iso, sizeof(iso), state_dir, STATE_ISO);
    snprintf(tmp_iso, sizeof(tmp_iso), "%s.tmp", iso);
    remove_tree(root);
    if (mkdir(root, 0700) < 0)
        return dom0_fail(err, errlen, errno, "mkdir %s: %s", root, strerror(errno));
    rc = populate_tree(root, hv_elf, cmdline, modules, nr_modules, err, errlen);
    if (rc == 0)
        rc = run_mkrescue(state_dir, root, tmp_iso, err, errlen);
    if (rc == 0 && rename(tmp_iso, iso) < 0)
        rc = dom0_fail(err, errlen, errno, "rename %s: %s", tmp_iso, strerror(errno));
    if (rc < 0)
        unlink(tmp_iso);
    remove_tree(root);
    return rc;
}
