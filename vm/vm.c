/* Platform-neutral parts of the VM interface (vm/vm.h): config defaults,
 * validation, the deep copy the backends keep, and names.  Linked on every
 * platform; the backends (vm/qemu.c, vm/vz.c) call vm_config_check() from
 * vm_create() so that a config is judged the same way everywhere. */
#include <errno.h>
#include <string.h>
#include <sys/utsname.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "vm/vm.h"

/* Bounds that no real container needs to exceed; they keep a hostile or
 * mistaken config from asking the VMM for absurd things. */
#define VM_MAX_CPUS 64
#define VM_MIN_MEMORY_MIB 64
#define VM_MAX_MEMORY_MIB (1u << 20)
#define VM_MAX_DISKS 16
#define VM_MAX_SHARES 16
#define VM_MAX_NICS 8
#define VM_MAX_CMDLINE 2000 /* the kernel's COMMAND_LINE_SIZE is 2048 */
#define VM_MAX_TAG 31
#define VM_MAX_SERIAL 20 /* virtio-blk's serial field */
#define VM_MAX_IFNAME 15 /* IFNAMSIZ - 1 */

void vm_config_init(struct vm_config *c)
{
	struct utsname u;

	memset(c, 0, sizeof(*c));
	c->arch = VM_ARCH_X86_64;
	if (uname(&u) == 0 &&
	    (strcmp(u.machine, "aarch64") == 0 || strcmp(u.machine, "arm64") == 0))
		c->arch = VM_ARCH_AARCH64;
	c->accel = VM_ACCEL_AUTO;
	c->cpus = 1;
	c->memory_mib = 256;
	c->agent_fd = -1;
}

const char *vm_arch_name(enum vm_arch a)
{
	switch (a) {
	case VM_ARCH_X86_64:
		return "x86_64";
	case VM_ARCH_AARCH64:
		return "aarch64";
	}
	return "unknown";
}

int vm_arch_parse(const char *s, enum vm_arch *out, struct err *e)
{
	if (strcmp(s, "x86_64") == 0 || strcmp(s, "amd64") == 0)
		*out = VM_ARCH_X86_64;
	else if (strcmp(s, "aarch64") == 0 || strcmp(s, "arm64") == 0)
		*out = VM_ARCH_AARCH64;
	else
		return err_set(e, -EINVAL,
			       "unknown architecture '%s' (x86_64/amd64 or aarch64/arm64)", s);
	return 0;
}

const char *vm_exit_reason_name(enum vm_exit_reason r)
{
	switch (r) {
	case VM_EXIT_RUNNING:
		return "running";
	case VM_EXIT_POWEROFF:
		return "poweroff";
	case VM_EXIT_REBOOT:
		return "reboot";
	case VM_EXIT_STOPPED:
		return "stopped";
	case VM_EXIT_KILLED:
		return "killed";
	case VM_EXIT_CRASHED:
		return "crashed";
	}
	return "unknown";
}

static bool is_word(const char *s, size_t max)
{
	size_t n = 0;

	for (; *s; s++, n++) {
		char ch = *s;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
			return false;
	}
	return n >= 1 && n <= max;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* "52:54:00:12:34:56": six hex pairs, unicast (bit 0 of the first octet
 * clear: a multicast source address would be dropped by every bridge). */
static bool mac_ok(const char *m)
{
	if (strlen(m) != 17)
		return false;
	for (int i = 0; i < 17; i++) {
		if (i % 3 == 2 ? m[i] != ':' : hexval(m[i]) < 0)
			return false;
	}
	return (hexval(m[1]) & 1) == 0;
}

static int blob_check(const struct vm_blob *b, const char *what, bool required, struct err *e)
{
	bool has_path = b->path != NULL, has_data = b->data != NULL;

	if (has_path && has_data)
		return err_set(e, -EINVAL, "%s: both a path and in-memory data given", what);
	if (!has_path && !has_data)
		return required ? err_set(e, -EINVAL, "%s: none given", what) : 0;
	if (has_path && !*b->path)
		return err_set(e, -EINVAL, "%s: empty path", what);
	if (has_data && b->len == 0)
		return err_set(e, -EINVAL, "%s: empty in-memory image", what);
	return 0;
}

static int nic_check(const struct vm_nic *n, size_t i, struct err *e)
{
	if (n->mac && !mac_ok(n->mac))
		return err_set(e, -EINVAL,
			       "nic %zu: bad MAC address '%s' (want 6 hex pairs, unicast)", i,
			       n->mac);
	switch (n->kind) {
	case VM_NIC_USER:
		if (n->fd >= 0 || n->ifname)
			return err_set(e, -EINVAL, "nic %zu: user networking takes no fd or ifname",
				       i);
		return 0;
	case VM_NIC_TAP:
		if (n->fd >= 0)
			return n->ifname
				   ? err_set(e, -EINVAL, "nic %zu: tap: both fd and ifname", i)
				   : 0;
		if (!n->ifname || !is_word(n->ifname, VM_MAX_IFNAME))
			return err_set(e, -EINVAL,
				       "nic %zu: tap needs an fd or an interface name "
				       "(1..%d of [A-Za-z0-9._-])",
				       i, VM_MAX_IFNAME);
		return 0;
	case VM_NIC_SOCKET:
		if (n->fd < 0 || n->ifname)
			return err_set(e, -EINVAL, "nic %zu: socket networking needs an fd (only)",
				       i);
		return 0;
	}
	return err_set(e, -EINVAL, "nic %zu: unknown kind %d", i, (int)n->kind);
}

int vm_config_check(const struct vm_config *c, struct err *e)
{
	int r;

	if (c->arch != VM_ARCH_X86_64 && c->arch != VM_ARCH_AARCH64)
		return err_set(e, -EINVAL, "unknown architecture %d", (int)c->arch);
	if (c->accel != VM_ACCEL_AUTO && c->accel != VM_ACCEL_HW && c->accel != VM_ACCEL_EMULATE)
		return err_set(e, -EINVAL, "unknown accelerator %d", (int)c->accel);
	if (c->cpus < 1 || c->cpus > VM_MAX_CPUS)
		return err_set(e, -EINVAL, "cpus: %u is not in 1..%d", c->cpus, VM_MAX_CPUS);
	if (c->memory_mib < VM_MIN_MEMORY_MIB || c->memory_mib > VM_MAX_MEMORY_MIB)
		return err_set(e, -EINVAL, "memory: %u MiB is not in %d..%u MiB", c->memory_mib,
			       VM_MIN_MEMORY_MIB, VM_MAX_MEMORY_MIB);
	if ((r = blob_check(&c->kernel, "kernel", true, e)) < 0 ||
	    (r = blob_check(&c->initrd, "initrd", false, e)) < 0)
		return r;
	if (c->cmdline) {
		if (strlen(c->cmdline) > VM_MAX_CMDLINE)
			return err_set(e, -E2BIG, "kernel command line: over %d bytes",
				       VM_MAX_CMDLINE);
		for (const char *p = c->cmdline; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				return err_set(e, -EINVAL,
					       "kernel command line: control character 0x%02x",
					       (unsigned char)*p);
	}
	if (c->n_disks > VM_MAX_DISKS || c->n_shares > VM_MAX_SHARES || c->n_nics > VM_MAX_NICS)
		return err_set(e, -E2BIG, "too many devices (at most %d disks, %d shares, %d nics)",
			       VM_MAX_DISKS, VM_MAX_SHARES, VM_MAX_NICS);
	for (size_t i = 0; i < c->n_disks; i++) {
		const struct vm_disk *d = &c->disks[i];
		if (!d->path || !*d->path)
			return err_set(e, -EINVAL, "disk %zu: no path", i);
		if (d->serial && !is_word(d->serial, VM_MAX_SERIAL))
			return err_set(e, -EINVAL,
				       "disk %zu: serial '%s' is not 1..%d of [A-Za-z0-9._-]", i,
				       d->serial, VM_MAX_SERIAL);
	}
	for (size_t i = 0; i < c->n_shares; i++) {
		const struct vm_share *s = &c->shares[i];
		if (!s->tag || !is_word(s->tag, VM_MAX_TAG))
			return err_set(e, -EINVAL,
				       "share %zu: tag '%s' is not 1..%d of [A-Za-z0-9._-]", i,
				       s->tag ? s->tag : "", VM_MAX_TAG);
		if (!s->path || !*s->path)
			return err_set(e, -EINVAL, "share %zu: no path", i);
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->shares[j].tag, s->tag) == 0)
				return err_set(e, -EINVAL, "share %zu: tag '%s' used twice", i,
					       s->tag);
	}
	for (size_t i = 0; i < c->n_nics; i++)
		if ((r = nic_check(&c->nics[i], i, e)) < 0)
			return r;
	if (c->agent_socket && c->agent_fd >= 0)
		return err_set(e, -EINVAL, "agent channel: both a socket path and an fd given");
	if (c->agent_socket && !*c->agent_socket)
		return err_set(e, -EINVAL, "agent channel: empty socket path");
	if (c->console_log && !*c->console_log)
		return err_set(e, -EINVAL, "console log: empty path");
	return 0;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

struct vm_config *vm__config_dup(const struct vm_config *c)
{
	struct vm_config *d = xmalloc(sizeof(*d));
	struct vm_disk *disks = c->n_disks ? xcalloc(c->n_disks, sizeof(*disks)) : NULL;
	struct vm_share *shares = c->n_shares ? xcalloc(c->n_shares, sizeof(*shares)) : NULL;
	struct vm_nic *nics = c->n_nics ? xcalloc(c->n_nics, sizeof(*nics)) : NULL;

	*d = *c;
	d->kernel.path = dup_or_null(c->kernel.path);
	d->initrd.path = dup_or_null(c->initrd.path);
	d->cmdline = dup_or_null(c->cmdline);
	d->console_log = dup_or_null(c->console_log);
	d->agent_socket = dup_or_null(c->agent_socket);
	for (size_t i = 0; i < c->n_disks; i++) {
		disks[i] = c->disks[i];
		disks[i].path = xstrdup(c->disks[i].path);
		disks[i].serial = dup_or_null(c->disks[i].serial);
	}
	for (size_t i = 0; i < c->n_shares; i++) {
		shares[i] = c->shares[i];
		shares[i].tag = xstrdup(c->shares[i].tag);
		shares[i].path = xstrdup(c->shares[i].path);
	}
	for (size_t i = 0; i < c->n_nics; i++) {
		nics[i] = c->nics[i];
		nics[i].mac = dup_or_null(c->nics[i].mac);
		nics[i].ifname = dup_or_null(c->nics[i].ifname);
	}
	d->disks = disks;
	d->shares = shares;
	d->nics = nics;
	return d;
}

/* The copy's strings are ours (vm__config_dup), hence the casts. */
void vm__config_free(struct vm_config *c)
{
	if (!c)
		return;
	free((char *)c->kernel.path);
	free((char *)c->initrd.path);
	free((char *)c->cmdline);
	free((char *)c->console_log);
	free((char *)c->agent_socket);
	for (size_t i = 0; i < c->n_disks; i++) {
		free((char *)c->disks[i].path);
		free((char *)c->disks[i].serial);
	}
	for (size_t i = 0; i < c->n_shares; i++) {
		free((char *)c->shares[i].tag);
		free((char *)c->shares[i].path);
	}
	for (size_t i = 0; i < c->n_nics; i++) {
		free((char *)c->nics[i].mac);
		free((char *)c->nics[i].ifname);
	}
	free((void *)c->disks);
	free((void *)c->shares);
	free((void *)c->nics);
	free(c);
}

int vm_stop(struct vm *vm, int timeout_ms, struct err *e)
{
	int r = vm__power_button(vm, e);

	if (r < 0)
		return r;
	if (r == 1)
		return 0;
	if (r == 0) {
		r = vm_wait(vm, timeout_ms, NULL, e);
		if (r != -ETIMEDOUT)
			return r;
		err_clear(e);
	}
	/* No answer, or no power-off in time: the bound is the bound. */
	if ((r = vm__kill_late(vm, e)) < 0)
		return r;
	return vm_wait(vm, -1, NULL, e);
}
