/* The guest init: PID 1 of the container's VM (see initrd/init.h).
 *
 * Boot order, and why:
 *  1. leave the initramfs root (rootfs) for a bind mount of itself, since
 *     pivot_root(2) refuses to move rootfs and the container's namespace
 *     pivots later;
 *  2. /dev, /proc, /sys, /run, devpts, cgroup2; the console for messages;
 *  3. the kernel command line, then the agent channel and HELLO, then the
 *     JSON configuration (command line or CONFIG message);
 *  4. clock, hostname, loopback; the image disk (read-only) and the
 *     writable disk combined by overlayfs at /mnt/root (or the image alone
 *     under a read-only overlay with read_only); hosts/resolv.conf/hostname
 *     written under /run and bind-mounted over the root's /etc files, so
 *     they never land in the writable layer (as Docker does);
 *  5. the main process (stream 1), then the event loop until it exits;
 *  6. sync and power off.  Any failure on the way: ERROR to the host, a
 *     line on the console, power off. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "initrd/agent.h"
#include "initrd/init.h"
#include "lib/err.h"
#include "lib/exit.h"
#include "lib/fs.h"
#include "lib/mem.h"

#define ETC_FILE_MAX (4u << 20)   /* passwd/group read from the image */

static __attribute__((format(printf, 2, 0))) void vlog(struct init *in, const char *fmt,
							 va_list ap)
{
	struct buf b = BUF_INIT;

	if (in->debug) {
		/* the kernel's printk clock, so init's steps line up with its log */
		struct timespec ts;
		clock_gettime(CLOCK_BOOTTIME, &ts);
		buf_printf(&b, "[%5ld.%06ld] ", (long)ts.tv_sec, ts.tv_nsec / 1000);
	}
	buf_puts(&b, "init: ");
	buf_vprintf(&b, fmt, ap);
	buf_putc(&b, '\n');
	if (write(in->console >= 0 ? in->console : 2, b.data, b.len) < 0) {
		/* nowhere left to say it */
	}
	buf_free(&b);
}

void init__log(struct init *in, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(in, fmt, ap);
	va_end(ap);
}

void init__debug(struct init *in, const char *fmt, ...)
{
	va_list ap;
	if (!in->debug)
		return;
	va_start(ap, fmt);
	vlog(in, fmt, ap);
	va_end(ap);
}

/* Our own peak RSS in KiB (for the debug line benchmarks read), -1. */
static long hwm_kib(void)
{
	char b[2048];
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, b, sizeof(b) - 1);
	const char *p;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	b[n] = '\0';
	p = strstr(b, "VmHWM:");
	return p ? strtol(p + 6, NULL, 10) : -1;
}

void init__poweroff(struct init *in)
{
	init__debug(in, "powering off (init peak rss %ld KiB)", hwm_kib());
	sync();
	init__mounts_trim(in);
	sync();
	if (getpid() == 1) {
		reboot(RB_POWER_OFF);
		/* only reached if the kernel refuses: PID 1 must not exit */
		init__log(in, "power off failed: %s", strerror(errno));
		for (;;)
			pause();
	}
	_exit(EXIT_FAIL);
}

/* Log, tell the host, power off. */
static __attribute__((noreturn)) void fatal(struct init *in, const struct err *e)
{
	init__log(in, "fatal: %s", e->msg);
	if (in->agent >= 0) {
		struct err e2 = ERR_INIT;
		buf_reset(&in->tx);
		if (agent_put_error(&in->tx, 0, e->code, e->msg, &e2) == 0)
			init__send(in, &e2);
	}
	init__poweroff(in);
}

/* --- mounts ------------------------------------------------------------- */

static int mount_one(const char *src, const char *dst, const char *type, unsigned long flags,
		     const char *opts, struct err *e)
{
	if (fs_mkdir_p(dst, 0755, e) < 0)
		return e->code;
	if (mount(src, dst, type, flags, opts) < 0)
		return err_sys(e, "mount %s on %s (%s)", src, dst, type ? type : "bind");
	return 0;
}

/* pivot_root cannot move the initial rootfs, so stand on a bind mount of
 * it instead (the move-and-chroot that switch_root does, onto ourselves). */
static int leave_rootfs(struct err *e)
{
	struct statfs sf;

	if (statfs("/", &sf) < 0)
		return err_sys(e, "statfs /");
	if (sf.f_type != RAMFS_MAGIC && sf.f_type != TMPFS_MAGIC)
		return 0;
	if (mkdir("/.root", 0700) < 0 && errno != EEXIST)
		return err_sys(e, "mkdir /.root");
	if (mount("/", "/.root", NULL, MS_BIND | MS_REC, NULL) < 0 || chdir("/.root") < 0 ||
	    mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 || chdir("/") < 0)
		return err_sys(e, "re-rooting the initramfs");
	return 0;
}

static int mount_basics(struct err *e)
{
	static const struct {
		const char *src, *dst, *type;
		unsigned long flags;
		const char *opts;
	} m[] = {
		{ "devtmpfs", "/dev", "devtmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755" },
		{ "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
		{ "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
		{ "tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755" },
		{ "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "mode=0620,ptmxmode=0666" },
		{ "tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777" },
		{ "cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
	};
	for (size_t i = 0; i < ARRAY_SIZE(m); i++) {
		int rc = mount_one(m[i].src, m[i].dst, m[i].type, m[i].flags, m[i].opts, e);
		/* devtmpfs may already be mounted by the kernel (DEVTMPFS_MOUNT) */
		if (rc == -EBUSY && i == 0)
			continue;
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Messages go to the console: the kernel opened it as init's fd 0-2 (the
 * initramfs has /dev/console); when it could not, open it ourselves. */
static void open_console(struct init *in)
{
	int fd = fcntl(2, F_DUPFD_CLOEXEC, 3);

	if (fd < 0)
		fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	in->console = fd;
	for (int i = 0; i < 3; i++)
		if (fcntl(i, F_GETFD) < 0)
			dup2(fd, i);
}

static void loopback_up(struct init *in)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0 ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr) < 0))
		init__log(in, "loopback: %s", strerror(errno));
	if (s >= 0)
		close(s);
}

static int ifreq_addr(int s, unsigned long req, const char *name, const uint8_t a[4])
{
	struct ifreq ifr;
	struct sockaddr_in sin = { .sin_family = AF_INET };

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	memcpy(&sin.sin_addr, a, 4);
	memcpy(&ifr.ifr_addr, &sin, sizeof(sin));
	return ioctl(s, req, &ifr);
}

/* The kernel's name of the NIC with this MAC: virtio-mmio devices are not
 * probed in command-line order, so eth1 may be the second network's or
 * the first's.  Without a MAC, the configured name; 0 when a MAC matches
 * no NIC. */
static int iface_by_mac(int s, const struct guest_iface *f, char name[IFNAMSIZ])
{
	struct if_nameindex *v = f->has_mac ? if_nameindex() : NULL;
	int found = !f->has_mac;

	snprintf(name, IFNAMSIZ, "%s", f->name);
	for (struct if_nameindex *x = v; x && x->if_index; x++) {
		struct ifreq ifr;
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", x->if_name);
		if (ioctl(s, SIOCGIFHWADDR, &ifr) == 0 &&
		    memcmp(ifr.ifr_hwaddr.sa_data, f->mac, 6) == 0) {
			snprintf(name, IFNAMSIZ, "%s", x->if_name);
			found = 1;
			break;
		}
	}
	if (v)
		if_freenameindex(v);
	return found;
}

/* Give each NIC its configured name (eth0 for the first network, eth1…,
 * as Docker's containers see them): found by MAC, renamed through a
 * temporary name so that two NICs probed the other way round can swap.
 * While still down, as SIOCSIFNAME wants.  A failure leaves the kernel's
 * name, which net_config still finds by MAC. */
static void nic_names(struct init *in, int s)
{
	char cur[GUEST_IFACES_MAX][IFNAMSIZ];
	bool moved[GUEST_IFACES_MAX] = { false };
	size_t n = in->cfg.n_ifaces < GUEST_IFACES_MAX ? in->cfg.n_ifaces : GUEST_IFACES_MAX;

	for (size_t i = 0; i < n; i++) {
		const struct guest_iface *f = &in->cfg.ifaces[i];
		struct ifreq ifr;
		if (!f->has_mac || !iface_by_mac(s, f, cur[i]) || !strcmp(cur[i], f->name))
			continue;
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", cur[i]);
		snprintf(ifr.ifr_newname, sizeof(ifr.ifr_newname), "ctrnic%zu", i);
		if (ioctl(s, SIOCSIFNAME, &ifr) < 0)
			init__log(in, "%s: cannot rename it to %s: %s", cur[i], f->name, strerror(errno));
		else
			moved[i] = true;
	}
	for (size_t i = 0; i < n; i++) {
		const struct guest_iface *f = &in->cfg.ifaces[i];
		struct ifreq ifr;
		if (!moved[i])
			continue;
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "ctrnic%zu", i);
		snprintf(ifr.ifr_newname, sizeof(ifr.ifr_newname), "%s", f->name);
		if (ioctl(s, SIOCSIFNAME, &ifr) < 0)
			init__log(in, "ctrnic%zu: cannot rename it to %s: %s", i, f->name, strerror(errno));
	}
}

/* Static IPv4 from the boot configuration: address, mask, MTU, up, and a
 * default route through the gateway (the first network's only).  (ioctl
 * rather than netlink: this is all a container's NICs need.) */
static int net_config(struct init *in, struct err *e)
{
	_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0 && in->cfg.n_ifaces)
		return err_sys(e, "socket");
	if (s >= 0)
		nic_names(in, s);
	for (size_t i = 0; i < in->cfg.n_ifaces; i++) {
		const struct guest_iface *f = &in->cfg.ifaces[i];
		uint32_t m = f->prefix ? htonl(~0u << (32 - f->prefix)) : 0;
		struct ifreq ifr;
		char name[IFNAMSIZ];
		if (!iface_by_mac(s, f, name)) {
			/* the host gave no NIC for it (a bundle made as root,
			 * started without): the others still work */
			init__log(in, "%s: no NIC with its MAC, left unconfigured", f->name);
			continue;
		}
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
		if (ifreq_addr(s, SIOCSIFADDR, name, f->addr) < 0 ||
		    ifreq_addr(s, SIOCSIFNETMASK, name, (const uint8_t *)&m) < 0)
			return err_sys(e, "%s: setting the address", name);
		if (f->mtu && (ifr.ifr_mtu = (int)f->mtu, ioctl(s, SIOCSIFMTU, &ifr) < 0))
			return err_sys(e, "%s: setting the MTU", name);
		if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0 ||
		    (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr) < 0))
			return err_sys(e, "%s: bringing it up", name);
		if (f->has_gateway) {
			struct rtentry rt;
			struct sockaddr_in any = { .sin_family = AF_INET }, gw = any;
			memset(&rt, 0, sizeof(rt));
			memcpy(&gw.sin_addr, f->gateway, 4);
			memcpy(&rt.rt_dst, &any, sizeof(any));
			memcpy(&rt.rt_genmask, &any, sizeof(any));
			memcpy(&rt.rt_gateway, &gw, sizeof(gw));
			rt.rt_flags = RTF_UP | RTF_GATEWAY;
			rt.rt_dev = ifr.ifr_name;
			if (ioctl(s, SIOCADDRT, &rt) < 0 && errno != EEXIST)
				return err_sys(e, "%s: default route", name);
		}
	}
	return 0;
}

static void set_clock(struct init *in, int64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000), (long)(ns % 1000000000) };
	if (clock_settime(CLOCK_REALTIME, &ts) < 0)
		init__log(in, "setting the clock: %s", strerror(errno));
}

/* --- the container's root ------------------------------------------------- */

/* A disk named by path, or by its virtio-blk serial (vm_disk.serial), which
 * does not depend on the order the kernel probed the devices in. */
static int find_disk(const char *spec, struct buf *dev, struct err *e)
{
	DIR *d;
	struct dirent *de;

	buf_reset(dev);
	if (spec[0] == '/') {
		buf_puts(dev, spec);
		return 0;
	}
	d = opendir("/sys/block");
	while (d && (de = readdir(d))) {
		_cleanup_buf_ struct buf p = BUF_INIT, serial = BUF_INIT;
		struct err e2 = ERR_INIT;
		if (de->d_name[0] == '.')
			continue;
		buf_printf(&p, "/sys/block/%s/serial", de->d_name);
		if (fs_read_file(buf_str(&p), &serial, 4096, &e2) < 0)
			continue;
		while (serial.len && (serial.data[serial.len - 1] == '\n'))
			buf_truncate(&serial, serial.len - 1);
		if (!strcmp(buf_str(&serial), spec)) {
			buf_printf(dev, "/dev/%s", de->d_name);
			closedir(d);
			return 0;
		}
	}
	if (d)
		closedir(d);
	return err_set(e, -ENOENT, "no disk with serial '%s'", spec);
}

int init__find_disk(const char *spec, struct buf *dev, struct err *e)
{
	return find_disk(spec, dev, e);
}

/* --read-only: the image under an overlay whose upper layer is a small
 * tmpfs holding only the mount points docker always provides (/proc,
 * /sys, /dev, /etc/hosts, ...) where the image lacks them, mounted
 * read-only.  The workload cannot write anywhere in the root. */
static int ro_upper(struct err *e)
{
	static const char *const dirs[] = { "proc", "sys", "dev", "etc" };
	static const char *const files[] = { "etc/hostname", "etc/hosts", "etc/resolv.conf" };
	struct stat st;
	int rc;

	if ((rc = mount_one("tmpfs", "/mnt/rw", "tmpfs", MS_NOSUID | MS_NODEV, "mode=755", e)) < 0 ||
	    (rc = fs_mkdir_p("/mnt/rw/upper", 0755, e)) < 0 ||
	    (rc = fs_mkdir_p("/mnt/rw/work", 0700, e)) < 0)
		return rc;
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		_cleanup_buf_ struct buf img = BUF_INIT, up = BUF_INIT;
		buf_printf(&img, "/mnt/image/%s", dirs[i]);
		buf_printf(&up, "/mnt/rw/upper/%s", dirs[i]);
		if ((lstat(buf_str(&img), &st) < 0 || !S_ISDIR(st.st_mode)) &&
		    (rc = fs_mkdir_p(buf_str(&up), 0755, e)) < 0)
			return rc;
	}
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_buf_ struct buf img = BUF_INIT, up = BUF_INIT;
		buf_printf(&img, "/mnt/image/%s", files[i]);
		buf_printf(&up, "/mnt/rw/upper/%s", files[i]);
		if (lstat(buf_str(&img), &st) == 0 && S_ISREG(st.st_mode))
			continue;
		if ((rc = fs_mkdir_p("/mnt/rw/upper/etc", 0755, e)) < 0 ||
		    (rc = fs_write_atomic(buf_str(&up), "", 0, 0644, e)) < 0)
			return rc;
	}
	return 0;
}

static int mount_root(struct init *in, struct err *e)
{
	const struct guest_config *c = &in->cfg;
	_cleanup_buf_ struct buf img = BUF_INIT, rw = BUF_INIT;
	int rc;

	if ((rc = find_disk(c->image_dev, &img, e)) < 0 ||
	    (!c->read_only && (rc = find_disk(c->rw_dev, &rw, e)) < 0))
		return rc;
	/* noload: the image is shared read-only by every container of it; no
	 * journal replay may touch it */
	rc = mount_one(buf_str(&img), "/mnt/image", c->fstype, MS_RDONLY, "noload", e);
	if (rc == -EINVAL)
		rc = mount_one(buf_str(&img), "/mnt/image", c->fstype, MS_RDONLY, NULL, e);
	if (rc < 0)
		return err_wrap(e, "image disk");
	if (c->read_only)
		rc = ro_upper(e);
	else if ((rc = mount_one(buf_str(&rw), "/mnt/rw", c->fstype, MS_NODEV, NULL, e)) < 0)
		return err_wrap(e, "writable disk");
	else if ((rc = fs_mkdir_p("/mnt/rw/upper", 0755, e)) == 0)
		rc = fs_mkdir_p("/mnt/rw/work", 0700, e);
	if (rc < 0)
		return rc;
	rc = mount_one("overlay", INIT_ROOT, "overlay", c->read_only ? MS_RDONLY : 0,
		       "lowerdir=/mnt/image,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work", e);
	return rc < 0 ? err_wrap(e, "overlay") : 0;
}

static void etc_content(struct init *in, const char *name, struct buf *b)
{
	const struct guest_config *c = &in->cfg;

	if (!strcmp(name, "hostname")) {
		buf_printf(b, "%s\n", c->hostname);
	} else if (!strcmp(name, "hosts")) {
		buf_puts(b, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
			    "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\n"
			    "ff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n");
		for (size_t i = 0; c->hosts && c->hosts[i]; i++)
			buf_printf(b, "%s\n", c->hosts[i]);
	} else {
		/* docker's fallback when it has no usable resolver to copy; an
		 * empty list given on purpose (run --no-dns) means none */
		if (!c->dns_servers)
			buf_puts(b, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
		for (size_t i = 0; c->dns_servers && c->dns_servers[i]; i++)
			buf_printf(b, "nameserver %s\n", c->dns_servers[i]);
		if (c->dns_search && c->dns_search[0]) {
			buf_puts(b, "search");
			for (size_t i = 0; c->dns_search[i]; i++)
				buf_printf(b, " %s", c->dns_search[i]);
			buf_putc(b, '\n');
		}
		if (c->dns_options && c->dns_options[0]) {
			buf_puts(b, "options");
			for (size_t i = 0; c->dns_options[i]; i++)
				buf_printf(b, " %s", c->dns_options[i]);
			buf_putc(b, '\n');
		}
	}
}

/* Write /run/container/etc/NAME and bind it over the root's /etc/NAME.  A
 * target that is a symlink is replaced on a writable root (a bind mount
 * would follow it out of the root) and skipped on a read-only one. */
static int etc_files(struct init *in, struct err *e)
{
	static const char *const names[] = { "hostname", "hosts", "resolv.conf" };
	struct stat st;
	int rc;

	if ((rc = fs_mkdir_p("/run/container/etc", 0755, e)) < 0)
		return rc;
	if (lstat(INIT_ROOT "/etc", &st) < 0 && errno == ENOENT && !in->cfg.read_only)
		mkdir(INIT_ROOT "/etc", 0755);
	if (lstat(INIT_ROOT "/etc", &st) < 0 || !S_ISDIR(st.st_mode)) {
		init__log(in, "the image has no /etc directory: no hosts, resolv.conf, hostname");
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		_cleanup_buf_ struct buf src = BUF_INIT, dst = BUF_INIT, body = BUF_INIT;
		buf_printf(&src, "/run/container/etc/%s", names[i]);
		buf_printf(&dst, INIT_ROOT "/etc/%s", names[i]);
		etc_content(in, names[i], &body);
		if ((rc = fs_write_atomic(buf_str(&src), body.data, body.len, 0644, e)) < 0)
			return rc;
		if (lstat(buf_str(&dst), &st) < 0 || !S_ISREG(st.st_mode)) {
			int fd;
			if (in->cfg.read_only) {
				init__log(in, "read-only root without a regular /etc/%s: left alone",
					  names[i]);
				continue;
			}
			unlink(buf_str(&dst));
			fd = open(buf_str(&dst), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
			if (fd < 0)
				return err_sys(e, "create %s", buf_str(&dst));
			close(fd);
		}
		if (mount(buf_str(&src), buf_str(&dst), NULL, MS_BIND, NULL) < 0)
			return err_sys(e, "bind %s", buf_str(&dst));
	}
	return 0;
}

/* The container's /dev: a small tmpfs as docker makes it, and its own
 * devpts instance.  Mounted here, in init's namespace, before the main
 * process copies the mounts into its own: init allocates the terminals
 * of every process from this instance (init_proc.c). */
static int container_dev(struct err *e)
{
	static const struct { const char *name; unsigned maj, min; } nodes[] = {
		{ "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 },
		{ "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
	};
	static const struct { const char *name, *target; } links[] = {
		{ "ptmx", "pts/ptmx" }, { "fd", "/proc/self/fd" }, { "stdin", "/proc/self/fd/0" },
		{ "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
		{ "core", "/proc/kcore" },
	};
	_cleanup_buf_ struct buf p = BUF_INIT;
	int rc;

	if ((rc = mount_one("tmpfs", INIT_ROOT "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME,
			    "mode=755,size=65536k", e)) < 0)
		return rc;
	for (size_t i = 0; i < ARRAY_SIZE(nodes); i++) {
		buf_reset(&p);
		buf_printf(&p, INIT_ROOT "/dev/%s", nodes[i].name);
		if (mknod(buf_str(&p), S_IFCHR | 0666, makedev(nodes[i].maj, nodes[i].min)) < 0 ||
		    chmod(buf_str(&p), 0666) < 0)
			return err_sys(e, "mknod /dev/%s", nodes[i].name);
	}
	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		buf_reset(&p);
		buf_printf(&p, INIT_ROOT "/dev/%s", links[i].name);
		if (symlink(links[i].target, buf_str(&p)) < 0)
			return err_sys(e, "symlink /dev/%s", links[i].name);
	}
	if ((rc = mount_one("devpts", INIT_ROOT "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
			    "newinstance,ptmxmode=0666,mode=0620,gid=5", e)) < 0 ||
	    (rc = mount_one("shm", INIT_ROOT "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			    "mode=1777,size=65536k", e)) < 0)
		return rc;
	/* optional: a kernel without POSIX message queues still runs images */
	mount_one("mqueue", INIT_ROOT "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL, e);
	err_clear(e);
	return 0;
}

/* --- processes -------------------------------------------------------------- */

void init__spec_free(struct init_spec *s)
{
	guest_strv_free(s->argv);
	guest_strv_free(s->env);
	free(s->cwd);
	free(s->groups);
	free(s->copy_path);
	memset(s, 0, sizeof(*s));
}

static void read_etc(const char *name, struct buf *b)
{
	struct err e = ERR_INIT;
	_cleanup_buf_ struct buf path = BUF_INIT;

	buf_printf(&path, INIT_ROOT "/etc/%s", name);
	/* absent or unreadable: resolution proceeds as runc does without it */
	if (fs_read_file(buf_str(&path), b, ETC_FILE_MAX, &e) < 0)
		buf_free(b);
}

int init__resolve(struct init *in, const char *user, char *const *argv, char *const *env,
		  const char *cwd, bool tty, struct init_spec *out, struct err *e)
{
	_cleanup_buf_ struct buf pw = BUF_INIT, gr = BUF_INIT;
	struct guest_user u;
	int rc;

	memset(out, 0, sizeof(*out));
	read_etc("passwd", &pw);
	read_etc("group", &gr);
	rc = guest_user_resolve(user, pw.data, gr.data, in->cfg.proc.groups, &u, e);
	if (rc < 0)
		return rc;
	out->argv = guest_strv_dup(argv);
	out->env = guest_env_compose(in->base_env, env, in->cfg.hostname, tty, u.home);
	out->cwd = xstrdup(cwd);
	out->uid = u.uid;
	out->gid = u.gid;
	out->groups = u.sgids;
	out->n_groups = u.n_sgids;
	u.sgids = NULL;
	out->rlimits = in->cfg.proc.rlimits;
	out->n_rlimits = in->cfg.proc.n_rlimits;
	guest_user_free(&u);
	return 0;
}

static int start_main(struct init *in, struct err *e)
{
	struct guest_process_config *p = &in->cfg.proc;
	struct init_proc *proc;
	char **argv = NULL;
	int rc;

	if ((rc = guest_argv_compose(p->img_entrypoint, p->img_cmd, p->entrypoint, p->cmd, &argv,
				     e)) < 0)
		return rc;
	in->base_env = guest_env_merge(p->img_env, p->env);
	in->user_spec = xstrdup(p->user && *p->user ? p->user : p->img_user ? p->img_user : "");
	if ((rc = guest_workdir(p->workdir, p->img_workdir, &in->workdir, e)) < 0)
		goto out;
	proc = xcalloc(1, sizeof(*proc));
	proc->id = 1;
	proc->in_fd = proc->out_fd = proc->err_fd = -1;
	rc = init__resolve(in, in->user_spec, argv, NULL, in->workdir, p->tty, &proc->spec, e);
	if (rc < 0) {
		free(proc);
		goto out;
	}
	proc->spec.mkdir_cwd = true;
	proc->spec.tty = p->tty;
	proc->spec.open_stdin = p->open_stdin;
	proc->spec.rows = p->rows;
	proc->spec.cols = p->cols;
	proc->next = in->procs;
	in->procs = proc;
	in->n_procs++;
	rc = init__spawn(in, proc, true, e);
out:
	guest_strv_free(argv);
	return rc;
}

/* --- entry ----------------------------------------------------------------- */

/* Boot parameters after "--" on the kernel command line reach init as its
 * arguments; they count as parameters too (and override), which is also
 * how init is started by hand in a namespace for testing. */
static int cmdline_args(struct init *in, int argc, char **argv, struct err *e)
{
	_cleanup_buf_ struct buf b = BUF_INIT;
	struct guest_cmdline c;
	int rc;

	for (int i = 1; i < argc; i++)
		buf_printf(&b, "%s\"%s\"", i > 1 ? " " : "", argv[i]);
	if (argc < 2 || (rc = guest_cmdline_parse(buf_str(&b), b.len, &c, e)) < 0)
		return argc < 2 ? 0 : rc;
#define TAKE(f) do { if (c.f) { free(in->cmdline.f); in->cmdline.f = c.f; c.f = NULL; } } while (0)
	TAKE(agent);
	TAKE(test);
	TAKE(unknown);
	if (c.config) {
		TAKE(config);
		in->cmdline.config_len = c.config_len;
	}
#undef TAKE
	if (c.has_clock) {
		in->cmdline.has_clock = true;
		in->cmdline.clock_ns = c.clock_ns;
	}
	in->cmdline.debug |= c.debug;
	guest_cmdline_free(&c);
	return 0;
}

static void boot(struct init *in, int argc, char **argv)
{
	struct err e = ERR_INIT;
	_cleanup_buf_ struct buf cl = BUF_INIT;

	if (init__signals(in, &e) < 0 || leave_rootfs(&e) < 0 || mount_basics(&e) < 0) {
		open_console(in);
		fatal(in, &e);
	}
	open_console(in);
	if (fs_read_file("/proc/cmdline", &cl, 64 << 10, &e) < 0 ||
	    guest_cmdline_parse(buf_str(&cl), cl.len, &in->cmdline, &e) < 0 ||
	    cmdline_args(in, argc, argv, &e) < 0)
		fatal(in, &e);
	in->debug = in->cmdline.debug;
	init__debug(in, "running; file systems mounted");
	if (in->cmdline.unknown)
		init__log(in, "ignoring unknown boot parameters: %s", in->cmdline.unknown);
	if (in->cmdline.has_clock)
		set_clock(in, in->cmdline.clock_ns);
	loopback_up(in);
	if (init__agent_open(in, &e) < 0)
		fatal(in, &e);
	init__debug(in, "agent channel open");
	if (in->cmdline.test) {
		init__misbehave(in, in->cmdline.test);
		init__poweroff(in);
	}
	if (in->cmdline.config) {
		if (guest_config_parse(in->cmdline.config, in->cmdline.config_len, &in->cfg, &e) < 0)
			fatal(in, &e);
		in->have_cfg = true;
	} else if (in->agent < 0) {
		err_set(&e, -EINVAL, "no boot configuration: neither container.config= nor an "
				     "agent channel");
		fatal(in, &e);
	} else if (init__await_config(in, &e) < 0) {
		fatal(in, &e);
	}
	init__debug(in, "configured");
	/* "copyraw" only changes what COPY does; every other mode takes over */
	in->copy_lie = in->cfg.test && !strcmp(in->cfg.test, "copyraw");
	if (in->cfg.test && !in->copy_lie) {
		init__misbehave(in, in->cfg.test);
		init__poweroff(in);
	}
	if (in->cfg.has_clock)
		set_clock(in, in->cfg.clock_ns);
	if (sethostname(in->cfg.hostname, strlen(in->cfg.hostname)) < 0)
		init__log(in, "sethostname: %s", strerror(errno));
	if (net_config(in, &e) < 0 || mount_root(in, &e) < 0 || etc_files(in, &e) < 0 ||
	    container_dev(&e) < 0 || init__mounts(in, &e) < 0)
		fatal(in, &e);
	init__debug(in, "root file system ready");
	if (start_main(in, &e) < 0)
		fatal(in, &e);
	init__debug(in, "workload started");
	if (in->agent >= 0) {
		buf_reset(&in->tx);
		agent_put_raw(&in->tx, AGENT_OK, 0, 0, NULL, 0, &e);
		init__send(in, &e);
	}
}

int init_main(int argc, char **argv)
{
	struct init in = { .console = -1, .agent = -1, .sigfd = -1, .power_fd = -1 };

	if (getpid() != 1) {
		fprintf(stderr, "init: this is PID 1 of a container's VM; it does not run on a "
				"host\n");
		return EXIT_USAGE;
	}
	buf_init(&in.rx, AGENT_FRAME_MAX);
	boot(&in, argc, argv);
	init__loop(&in);
	init__poweroff(&in);
}
