/* The QEMU command line for a struct vm_config: a pure function, so that the
 * exact argv is unit-tested (t/unit/vm_qemu_argv.c) and vm/qemu.c only
 * decides host facts (which binary, KVM or not, fd numbers) and spawns.
 *
 * Shape: a lean machine with no default devices and no firmware detour —
 * microvm on x86_64 (PVH kernel entry, no option ROMs, no PIT/PIC),
 * virt on aarch64 — and only virtio-mmio devices, which need no PCI
 * enumeration in the guest.  Every value that comes from the config goes
 * through qemu__put_value() (commas doubled); -kernel, -initrd and -append
 * take their argument verbatim in QEMU >= 7, so they are passed as is. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "vm/qemu.h"
#include "vm/vm.h"

/* microvm has 24 virtio-mmio transports, virt 32; rng + serial take two. */
#define QEMU_MAX_MMIO_DEVICES 22

void qemu_argv_free(struct qemu_argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	a->v = NULL;
	a->n = a->cap = 0;
}

static void push(struct qemu_argv *a, char *s)
{
	if (a->n + 2 > a->cap) {
		a->cap = a->cap ? a->cap * 2 : 32;
		a->v = xreallocarray(a->v, a->cap, sizeof(*a->v));
	}
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

static void pushs(struct qemu_argv *a, const char *s)
{
	push(a, xstrdup(s));
}

static void pushb(struct qemu_argv *a, struct buf *b)
{
	push(a, buf_steal(b));
}

/* Formatted argument; only for our own constants and numbers, never for
 * config strings (those go through qemu__put_value). */
static __attribute__((format(printf, 2, 3))) void pushf(struct qemu_argv *a, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	pushb(a, &b);
}

void qemu__put_value(struct buf *b, const char *s)
{
	for (; *s; s++) {
		buf_putc(b, *s);
		if (*s == ',')
			buf_putc(b, ',');
	}
}

static void push_fd_path(struct qemu_argv *a, const char *opt, const struct vm_blob *blob, int fd)
{
	pushs(a, opt);
	if (fd >= 0)
		pushf(a, "/dev/fd/%d", fd);
	else
		pushs(a, blob->path);
}

bool qemu__virtiofs(const struct vm_config *c)
{
	return c->share_fs == VM_SHARE_VIRTIOFS && c->n_shares > 0;
}

static void machine(const struct vm_config *c, const struct qemu_host *h, struct qemu_argv *a)
{
	/* vhost-user-fs: virtiofsd reads and writes guest buffers in place,
	 * so guest RAM must be memory it can map: a shared memfd. */
	const char *mem = qemu__virtiofs(c) ? ",memory-backend=mem" : "";

	if (qemu__virtiofs(c)) {
		pushs(a, "-object");
		pushf(a, "memory-backend-memfd,id=mem,size=%uM,share=on", c->memory_mib);
		/* virtio-mmio is legacy (0.9) unless told otherwise, and
		 * vhost-user backends serve only virtio 1.0 devices. */
		pushs(a, "-global");
		pushs(a, "virtio-mmio.force-legacy=false");
	}
	pushs(a, "-M");
	if (c->arch == VM_ARCH_X86_64) {
		/* No option ROMs (nothing to run before a PVH kernel), an
		 * ISA UART for the console, the RTC for the clock.  The PIT
		 * stays: under TCG the guest kernel calibrates its TSC against
		 * it (without it, it hangs; t/integ/kernel_boot.sh).  ACPI
		 * stays on: it describes the virtio-mmio devices and carries
		 * the power button and the guest's S5 power-off. */
		pushf(a, "microvm,x-option-roms=off,isa-serial=on,rtc=on%s", mem);
		pushs(a, "-accel");
		pushs(a, h->kvm ? "kvm" : "tcg");
		pushs(a, "-cpu");
		pushs(a, h->kvm ? "host" : "max");
	} else {
		/* Under TCG -cpu max emulates pointer authentication and is
		 * pathologically slow (NOTES.md); cortex-a72 is not.  GICv2
		 * (virt's default) stops at 8 CPUs. */
		pushf(a, "%s%s",
		      h->kvm	    ? "virt,gic-version=host"
		      : c->cpus > 8 ? "virt,gic-version=3"
				    : "virt",
		      mem);
		pushs(a, "-accel");
		pushs(a, h->kvm ? "kvm" : "tcg");
		pushs(a, "-cpu");
		pushs(a, h->kvm ? "host" : "cortex-a72");
	}
	pushs(a, "-smp");
	pushf(a, "%u", c->cpus);
	pushs(a, "-m");
	pushf(a, "%u", c->memory_mib);
}

static void boot(const struct vm_config *c, const struct qemu_host *h, struct qemu_argv *a)
{
	struct buf b = BUF_INIT;

	push_fd_path(a, "-kernel", &c->kernel, h->kernel_fd);
	if (c->initrd.path || c->initrd.data)
		push_fd_path(a, "-initrd", &c->initrd, h->initrd_fd);
	/* The machine's console, and on microvm no probing of the PCI bus
	 * it does not have, nor a TSC check that fails under TCG. */
	buf_puts(&b, c->arch == VM_ARCH_X86_64 ? "console=ttyS0 pci=off tsc=reliable no_timer_check"
					       : "console=ttyAMA0");
	/* Under TCG the guest calibrates its TSC against the emulated PIT;
	 * on a loaded host that fails and the boot hangs.  RDTSC under TCG
	 * reads the host's TSC, so its rate is the right answer to give. */
	if (c->arch == VM_ARCH_X86_64 && !h->kvm && h->tsc_khz)
		buf_printf(&b, " tsc_early_khz=%u", h->tsc_khz);
	if (c->cmdline && *c->cmdline)
		buf_printf(&b, " %s", c->cmdline);
	pushs(a, "-append");
	pushb(a, &b);
}

/* The QMP monitor and the console.  QEMU's own stderr is set up by the
 * spawner (vm/qemu.c), not here. */
static void control(const struct vm_config *c, const struct qemu_host *h, struct qemu_argv *a)
{
	struct buf b = BUF_INIT;

	if (h->qmp_fd >= 0) {
		pushs(a, "-chardev");
		pushf(a, "socket,id=qmp,fd=%d", h->qmp_fd);
		pushs(a, "-mon");
		pushs(a, "chardev=qmp,mode=control");
		/* Paused until QMP is negotiated (then "cont"): QEMU drops
		 * events before that, and a guest that powers off at once
		 * must not lose its SHUTDOWN reason. */
		pushs(a, "-S");
	}
	if (c->console_log) {
		buf_puts(&b, "file,id=console,append=on,path=");
		qemu__put_value(&b, c->console_log);
		pushs(a, "-chardev");
		pushb(a, &b);
		pushs(a, "-serial");
		pushs(a, "chardev:console");
	} else {
		pushs(a, "-serial");
		pushs(a, "null");
	}
}

static void disks(const struct vm_config *c, struct qemu_argv *a)
{
	for (size_t i = 0; i < c->n_disks; i++) {
		const struct vm_disk *d = &c->disks[i];
		struct buf b = BUF_INIT;

		/* The protocol node alone: our images are raw.  A writable
		 * disk passes the guest's discards through as holes, so a
		 * container's sparse rw.ext4 stays sparse. */
		buf_printf(&b, "driver=file,node-name=disk%zu,filename=", i);
		qemu__put_value(&b, d->path);
		buf_puts(&b, d->read_only ? ",read-only=on" : ",discard=unmap");
		pushs(a, "-blockdev");
		pushb(a, &b);
		buf_printf(&b, "virtio-blk-device,drive=disk%zu", i);
		if (d->serial) {
			buf_puts(&b, ",serial=");
			qemu__put_value(&b, d->serial);
		}
		pushs(a, "-device");
		pushb(a, &b);
	}
}

static void shares(const struct vm_config *c, const struct qemu_host *h, struct qemu_argv *a)
{
	for (size_t i = 0; i < c->n_shares; i++) {
		const struct vm_share *s = &c->shares[i];
		struct buf b = BUF_INIT;

		if (qemu__virtiofs(c)) {
			/* Read-only and caching are virtiofsd's business
			 * (vm/virtiofsd.c); QEMU only relays the queues. */
			pushs(a, "-chardev");
			pushf(a, "socket,id=fs%zu,fd=%d", i, h->share_fds[i]);
			buf_printf(&b, "vhost-user-fs-device,chardev=fs%zu,tag=", i);
			qemu__put_value(&b, s->tag);
			pushs(a, "-device");
			pushb(a, &b);
			continue;
		}

		/* mapped-xattr: guest ownership and modes live in xattrs, so
		 * an unprivileged host user can back a root-owned guest tree
		 * and the guest cannot create host device nodes or setuid
		 * files. */
		buf_printf(&b, "local,id=fs%zu,security_model=mapped-xattr,path=", i);
		qemu__put_value(&b, s->path);
		if (s->read_only)
			buf_puts(&b, ",readonly=on");
		pushs(a, "-fsdev");
		pushb(a, &b);
		buf_printf(&b, "virtio-9p-device,fsdev=fs%zu,mount_tag=", i);
		qemu__put_value(&b, s->tag);
		pushs(a, "-device");
		pushb(a, &b);
	}
}

static void nics(const struct vm_config *c, struct qemu_argv *a)
{
	for (size_t i = 0; i < c->n_nics; i++) {
		const struct vm_nic *n = &c->nics[i];
		struct buf b = BUF_INIT;

		switch (n->kind) {
		case VM_NIC_USER:
			buf_printf(&b, "user,id=net%zu", i);
			if (n->user_prefix) {
				uint32_t u = n->user_net, h = n->user_host, d = n->user_dns;
				buf_printf(&b, ",net=%u.%u.%u.%u/%u,host=%u.%u.%u.%u,dns=%u.%u.%u.%u",
					   u >> 24, (u >> 16) & 255, (u >> 8) & 255, u & 255,
					   n->user_prefix, h >> 24, (h >> 16) & 255, (h >> 8) & 255,
					   h & 255, d >> 24, (d >> 16) & 255, (d >> 8) & 255, d & 255);
			}
			break;
		case VM_NIC_TAP:
			buf_printf(&b, "tap,id=net%zu", i);
			if (n->fd >= 0) {
				buf_printf(&b, ",fd=%d", n->fd);
			} else {
				buf_puts(&b, ",script=no,downscript=no,ifname=");
				qemu__put_value(&b, n->ifname);
			}
			break;
		case VM_NIC_SOCKET:
			buf_printf(&b, "socket,id=net%zu,fd=%d", i, n->fd);
			break;
		}
		pushs(a, "-netdev");
		pushb(a, &b);
		buf_printf(&b, "virtio-net-device,netdev=net%zu", i);
		if (n->mac) {
			buf_puts(&b, ",mac=");
			qemu__put_value(&b, n->mac);
		}
		pushs(a, "-device");
		pushb(a, &b);
	}
}

static void agent(const struct vm_config *c, struct qemu_argv *a)
{
	struct buf b = BUF_INIT;

	if (!c->agent_socket && c->agent_fd < 0)
		return;
	/* Client mode, no reconnect: QEMU connects (or takes the connected
	 * fd) while it starts, before the guest runs, so no byte the guest
	 * writes early is lost and a missing listener fails vm_start. */
	if (c->agent_socket) {
		buf_puts(&b, "socket,id=agent,path=");
		qemu__put_value(&b, c->agent_socket);
	} else {
		buf_printf(&b, "socket,id=agent,fd=%d", c->agent_fd);
	}
	pushs(a, "-chardev");
	pushb(a, &b);
	pushs(a, "-device");
	pushs(a, "virtio-serial-device,max_ports=2");
	pushs(a, "-device");
	pushs(a, "virtserialport,chardev=agent,name=" VM_AGENT_PORT_NAME);
}

int qemu_build_argv(const struct vm_config *c, const struct qemu_host *h, struct qemu_argv *out,
		    struct err *e)
{
	struct qemu_argv a = {0};
	int r;

	if ((r = vm_config_check(c, e)) < 0)
		return r;
	if (!h->binary || !*h->binary)
		return err_set(e, -EINVAL, "qemu: no binary");
	if (c->kernel.data && h->kernel_fd < 0)
		return err_set(e, -EINVAL, "qemu: an in-memory kernel needs an fd");
	if (c->initrd.data && h->initrd_fd < 0)
		return err_set(e, -EINVAL, "qemu: an in-memory initrd needs an fd");
	if (qemu__virtiofs(c) && !h->share_fds)
		return err_set(e, -EINVAL, "qemu: virtio-fs shares need their virtiofsd sockets");
	if (c->n_disks + c->n_shares + c->n_nics > QEMU_MAX_MMIO_DEVICES)
		return err_set(e, -E2BIG, "qemu: %zu devices, at most %d fit on virtio-mmio",
			       c->n_disks + c->n_shares + c->n_nics, QEMU_MAX_MMIO_DEVICES);

	pushs(&a, h->binary);
	/* No default devices, no config files, no display, and a guest reboot
	 * (or a panic with panic=-1) ends the VM instead of restarting it. */
	pushs(&a, "-nodefaults");
	pushs(&a, "-no-user-config");
	pushs(&a, "-nographic");
	pushs(&a, "-no-reboot");
	if (h->sandbox) {
		/* QEMU runs the untrusted guest: once started it needs no
		 * new processes, privileges, or scheduler/affinity changes. */
		pushs(&a, "-sandbox");
		pushs(&a,
		      "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
	}
	machine(c, h, &a);
	boot(c, h, &a);
	control(c, h, &a);
	pushs(&a, "-device");
	pushs(&a, "virtio-rng-device");
	disks(c, &a);
	shares(c, h, &a);
	nics(c, &a);
	agent(c, &a);
	*out = a;
	return 0;
}
