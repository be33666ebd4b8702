/* The exact QEMU command lines built for given configs (vm/qemu_argv.c),
 * the comma quoting of option values, and the config checks (vm/vm.c). */
#include <errno.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "t/tap.h"
#include "vm/qemu.h"
#include "vm/vm.h"

/* argv joined by spaces; an argument holding a space is shown in '...'. */
static char *join(const struct qemu_argv *a)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < a->n; i++) {
		if (i)
			buf_putc(&b, ' ');
		if (strchr(a->v[i], ' '))
			buf_printf(&b, "'%s'", a->v[i]);
		else
			buf_puts(&b, a->v[i]);
	}
	return buf_steal(&b);
}

static struct qemu_host host(void)
{
	struct qemu_host h = {.binary = "/usr/bin/qemu-system-x86_64",
			      .kvm = false,
			      .sandbox = false,
			      .qmp_fd = 3,
			      .kernel_fd = -1,
			      .initrd_fd = -1};
	return h;
}

static void base(struct vm_config *c, enum vm_arch arch)
{
	vm_config_init(c);
	c->arch = arch;
	c->kernel.path = "/k/vmlinux";
}

/* Build and compare; on mismatch print both. */
static void is_argv(const struct vm_config *c, const struct qemu_host *h, const char *want,
		    const char *name)
{
	struct qemu_argv a = {0};
	struct err e = ERR_INIT;
	int r = qemu_build_argv(c, h, &a, &e);

	if (r < 0) {
		ok(0, "%s", name);
		diag("  build failed: %s", e.msg);
		return;
	}
	char *got = join(&a);
	is_str(got, want, "%s", name);
	ok(a.v[a.n] == NULL, "%s: argv is NULL-terminated", name);
	free(got);
	qemu_argv_free(&a);
}

static void is_err(const struct vm_config *c, const struct qemu_host *h, int code,
		   const char *needle, const char *name)
{
	struct qemu_argv a = {0};
	struct err e = ERR_INIT;
	int r = qemu_build_argv(c, h, &a, &e);

	is_int(r, code, "%s: fails", name);
	ok(strstr(e.msg, needle) != NULL, "%s: message names the problem", name);
	if (!strstr(e.msg, needle))
		diag("  message: %s", e.msg);
	ok(a.v == NULL, "%s: no argv on failure", name);
	qemu_argv_free(&a);
}

static void test_quote(void)
{
	struct buf b = BUF_INIT;

	qemu__put_value(&b, "a,b,,c,");
	is_str(buf_str(&b), "a,,b,,,,c,,", "commas doubled");
	buf_reset(&b);
	qemu__put_value(&b, "plain=x");
	is_str(buf_str(&b), "plain=x", "no commas: unchanged");
	buf_free(&b);
}

static void test_minimal(void)
{
	struct vm_config c;
	struct qemu_host h = host();

	base(&c, VM_ARCH_X86_64);
	h.tsc_khz = 2096036;
	is_argv(&c, &h,
		"/usr/bin/qemu-system-x86_64 -nodefaults -no-user-config -nographic -no-reboot "
		"-M microvm,x-option-roms=off,isa-serial=on,rtc=on "
		"-accel tcg -cpu max -smp 1 -m 256 -kernel /k/vmlinux -append 'console=ttyS0 "
		"pci=off tsc=reliable no_timer_check tsc_early_khz=2096036' "
		"-chardev socket,id=qmp,fd=3 -mon chardev=qmp,mode=control -S -serial null "
		"-device virtio-rng-device",
		"x86_64 TCG, minimal");

	h.binary = "/usr/bin/qemu-system-aarch64";
	base(&c, VM_ARCH_AARCH64);
	c.cpus = 2;
	c.memory_mib = 512;
	c.cmdline = "quiet panic=-1";
	c.initrd.path = "/k/initrd";
	c.console_log = "/run/boot.log";
	h.qmp_fd = -1;
	h.sandbox = true;
	is_argv(&c, &h,
		"/usr/bin/qemu-system-aarch64 -nodefaults -no-user-config -nographic -no-reboot "
		"-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny "
		"-M virt -accel tcg -cpu cortex-a72 -smp 2 -m 512 -kernel /k/vmlinux "
		"-initrd /k/initrd -append 'console=ttyAMA0 quiet panic=-1' "
		"-chardev file,id=console,append=on,path=/run/boot.log -serial chardev:console "
		"-device virtio-rng-device",
		"aarch64 TCG, initrd, console, sandbox, no QMP");

	c.cpus = 9;
	is_argv(&c, &h,
		"/usr/bin/qemu-system-aarch64 -nodefaults -no-user-config -nographic -no-reboot "
		"-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny "
		"-M virt,gic-version=3 -accel tcg -cpu cortex-a72 -smp 9 -m 512 -kernel /k/vmlinux "
		"-initrd /k/initrd -append 'console=ttyAMA0 quiet panic=-1' "
		"-chardev file,id=console,append=on,path=/run/boot.log -serial chardev:console "
		"-device virtio-rng-device",
		"aarch64 with 9 CPUs needs GICv3");

	h.kvm = true;
	h.sandbox = false;
	c.cpus = 1;
	c.initrd.path = NULL;
	c.cmdline = NULL;
	c.console_log = NULL;
	is_argv(&c, &h,
		"/usr/bin/qemu-system-aarch64 -nodefaults -no-user-config -nographic -no-reboot "
		"-M virt,gic-version=host -accel kvm -cpu host -smp 1 -m 512 -kernel /k/vmlinux "
		"-append console=ttyAMA0 -serial null -device virtio-rng-device",
		"aarch64 KVM");
}

static void test_full(void)
{
	struct vm_config c;
	struct qemu_host h = host();
	static const char blob[] = "bytes";
	struct vm_disk disks[] = {
	    {.path = "/img/a,b.ext4", .read_only = true, .serial = "image"},
	    {.path = "/ctr/rw.ext4", .read_only = false},
	};
	struct vm_share shares[] = {
	    {.tag = "vol0", .path = "/home/u/my,dir", .read_only = true},
	    {.tag = "vol1", .path = "/data", .read_only = false},
	};
	struct vm_nic nics[] = {
	    {.kind = VM_NIC_USER, .mac = "52:54:00:12:34:56", .fd = -1,
	     .user_net = 0xc0a84000u, .user_host = 0xc0a84001u, .user_dns = 0xc0a840feu,
	     .user_prefix = 24},
	    {.kind = VM_NIC_TAP, .fd = 7},
	    {.kind = VM_NIC_TAP, .fd = -1, .ifname = "tap0"},
	    {.kind = VM_NIC_SOCKET, .fd = 8},
	};

	base(&c, VM_ARCH_X86_64);
	c.kernel.path = NULL;
	c.kernel.data = blob;
	c.kernel.len = sizeof(blob);
	c.initrd.data = blob;
	c.initrd.len = sizeof(blob);
	c.cpus = 4;
	c.memory_mib = 1024;
	c.cmdline = "root=/dev/vda ro";
	c.console_log = "/var/lib/c,x/boot.log";
	c.disks = disks;
	c.n_disks = 2;
	c.shares = shares;
	c.n_shares = 2;
	c.nics = nics;
	c.n_nics = 4;
	c.agent_socket = "/run/c,1/agent.sock";
	h.kvm = true;
	h.tsc_khz = 2096036; /* ignored under KVM */
	h.kernel_fd = 4;
	h.initrd_fd = 5;
	is_argv(&c, &h,
		"/usr/bin/qemu-system-x86_64 -nodefaults -no-user-config -nographic -no-reboot "
		"-M microvm,x-option-roms=off,isa-serial=on,rtc=on "
		"-accel kvm -cpu host -smp 4 -m 1024 "
		"-kernel /dev/fd/4 -initrd /dev/fd/5 -append 'console=ttyS0 pci=off tsc=reliable "
		"no_timer_check root=/dev/vda ro' "
		"-chardev socket,id=qmp,fd=3 -mon chardev=qmp,mode=control -S "
		"-chardev file,id=console,append=on,path=/var/lib/c,,x/boot.log -serial "
		"chardev:console "
		"-device virtio-rng-device "
		"-blockdev driver=file,node-name=disk0,filename=/img/a,,b.ext4,read-only=on "
		"-device virtio-blk-device,drive=disk0,serial=image "
		"-blockdev driver=file,node-name=disk1,filename=/ctr/rw.ext4,discard=unmap "
		"-device virtio-blk-device,drive=disk1 "
		"-fsdev local,id=fs0,security_model=mapped-xattr,path=/home/u/my,,dir,readonly=on "
		"-device virtio-9p-device,fsdev=fs0,mount_tag=vol0 "
		"-fsdev local,id=fs1,security_model=mapped-xattr,path=/data "
		"-device virtio-9p-device,fsdev=fs1,mount_tag=vol1 "
		"-netdev user,id=net0,net=192.168.64.0/24,host=192.168.64.1,dns=192.168.64.254 "
		"-device virtio-net-device,netdev=net0,mac=52:54:00:12:34:56 "
		"-netdev tap,id=net1,fd=7 -device virtio-net-device,netdev=net1 "
		"-netdev tap,id=net2,script=no,downscript=no,ifname=tap0 "
		"-device virtio-net-device,netdev=net2 "
		"-netdev socket,id=net3,fd=8 -device virtio-net-device,netdev=net3 "
		"-chardev socket,id=agent,path=/run/c,,1/agent.sock "
		"-device virtio-serial-device,max_ports=2 "
		"-device virtserialport,chardev=agent,name=container.agent",
		"x86_64 KVM, every kind of device, commas in paths");

	c.agent_socket = NULL;
	c.agent_fd = 9;
	c.n_disks = c.n_shares = c.n_nics = 0;
	c.kernel.data = NULL;
	c.kernel.path = "/k/vm,linux";
	c.initrd.data = NULL;
	h.kernel_fd = h.initrd_fd = -1;
	c.cmdline = "";
	is_argv(&c, &h,
		"/usr/bin/qemu-system-x86_64 -nodefaults -no-user-config -nographic -no-reboot "
		"-M microvm,x-option-roms=off,isa-serial=on,rtc=on "
		"-accel kvm -cpu host -smp 4 -m 1024 -kernel /k/vm,linux -append 'console=ttyS0 "
		"pci=off tsc=reliable no_timer_check' "
		"-chardev socket,id=qmp,fd=3 -mon chardev=qmp,mode=control -S "
		"-chardev file,id=console,append=on,path=/var/lib/c,,x/boot.log -serial "
		"chardev:console "
		"-device virtio-rng-device -chardev socket,id=agent,fd=9 "
		"-device virtio-serial-device,max_ports=2 "
		"-device virtserialport,chardev=agent,name=container.agent",
		"agent on an fd; -kernel takes its path verbatim");
}

static void test_errors(void)
{
	struct vm_config c;
	struct qemu_host h = host();
	struct vm_disk disks[16];
	struct vm_share shares[16];
	static const char tags[16][4] = {"t0", "t1", "t2",  "t3",  "t4",  "t5",	 "t6",	"t7",
					 "t8", "t9", "t10", "t11", "t12", "t13", "t14", "t15"};
	struct vm_nic nic = {.kind = VM_NIC_USER, .fd = -1};
	struct vm_share dup[2] = {{.tag = "x", .path = "/a"}, {.tag = "x", .path = "/b"}};

	base(&c, VM_ARCH_X86_64);
	c.kernel.path = NULL;
	is_err(&c, &h, -EINVAL, "kernel: none given", "no kernel");

	base(&c, VM_ARCH_X86_64);
	c.kernel.data = "x";
	c.kernel.len = 1;
	is_err(&c, &h, -EINVAL, "both a path and in-memory", "kernel path and data");
	c.kernel.path = NULL;
	is_err(&c, &h, -EINVAL, "in-memory kernel needs an fd", "in-memory kernel without fd");

	base(&c, VM_ARCH_X86_64);
	c.cpus = 0;
	is_err(&c, &h, -EINVAL, "cpus: 0", "zero cpus");
	c.cpus = 1;
	c.memory_mib = 32;
	is_err(&c, &h, -EINVAL, "memory: 32 MiB", "too little memory");
	c.memory_mib = 256;
	c.cmdline = "quiet\ninit=/evil";
	is_err(&c, &h, -EINVAL, "control character 0x0a", "newline in the command line");
	c.cmdline = NULL;
	c.agent_socket = "/a";
	c.agent_fd = 5;
	is_err(&c, &h, -EINVAL, "both a socket path and an fd", "two agent channels");
	c.agent_socket = NULL;
	c.agent_fd = -1;

	nic.mac = "53:54:00:12:34:56";
	c.nics = &nic;
	c.n_nics = 1;
	is_err(&c, &h, -EINVAL, "bad MAC address", "multicast MAC");
	nic.mac = "52:54:00:12:34";
	is_err(&c, &h, -EINVAL, "bad MAC address", "short MAC");
	nic.mac = NULL;
	nic.kind = VM_NIC_SOCKET;
	is_err(&c, &h, -EINVAL, "needs an fd", "socket nic without fd");
	nic.kind = VM_NIC_TAP;
	nic.ifname = "tap0,script=/bin/evil";
	is_err(&c, &h, -EINVAL, "interface name", "tap ifname with a comma");
	c.n_nics = 0;

	c.shares = dup;
	c.n_shares = 2;
	is_err(&c, &h, -EINVAL, "used twice", "duplicate share tag");
	dup[1].tag = "bad tag";
	is_err(&c, &h, -EINVAL, "tag 'bad tag'", "share tag with a space");

	for (int i = 0; i < 16; i++) {
		disks[i] = (struct vm_disk){.path = "/d"};
		shares[i] = (struct vm_share){.tag = tags[i], .path = "/s"};
	}
	c.disks = disks;
	c.n_disks = 16;
	c.shares = shares;
	c.n_shares = 16;
	is_err(&c, &h, -E2BIG, "fit on virtio-mmio", "more devices than mmio slots");
	c.n_shares = 0;
	disks[3].serial = "serial,with,commas";
	is_err(&c, &h, -EINVAL, "disk 3: serial", "disk serial with commas");
	disks[3].serial = NULL;
	c.n_disks = 17;
	is_err(&c, &h, -E2BIG, "too many devices", "17 disks");
}

static void test_names(void)
{
	enum vm_arch a = 0;
	struct err e = ERR_INIT;

	is_int(vm_arch_parse("arm64", &a, &e), 0, "arm64 parses");
	is_int(a, VM_ARCH_AARCH64, "arm64 is aarch64");
	is_int(vm_arch_parse("amd64", &a, &e), 0, "amd64 parses");
	is_str(vm_arch_name(a), "x86_64", "amd64 is x86_64");
	is_int(vm_arch_parse("riscv64", &a, &e), -EINVAL, "riscv64 is refused");
	is_str(vm_exit_reason_name(VM_EXIT_POWEROFF), "poweroff", "exit reason name");
}

/* virtio-fs: a shared memfd for guest RAM, modern virtio-mmio, one
 * vhost-user-fs device per share on the socket its virtiofsd holds. */
static void test_virtiofs(void)
{
	struct vm_config c;
	struct qemu_host h = host();
	struct vm_share shares[] = {
	    {.tag = "bind0", .path = "/home/u/my,dir", .read_only = true},
	    {.tag = "bind1", .path = "/data", .cached = true},
	};
	int fds[] = {6, 7};
	struct qemu_argv a = {0};
	struct err e = ERR_INIT;

	base(&c, VM_ARCH_X86_64);
	c.memory_mib = 512;
	c.shares = shares;
	c.n_shares = 2;
	c.share_fs = VM_SHARE_VIRTIOFS;
	ok(qemu_build_argv(&c, &h, &a, &e) == -EINVAL && strstr(e.msg, "virtiofsd"),
	   "virtio-fs shares without their sockets are refused: %s", e.msg);
	qemu_argv_free(&a);
	h.share_fds = fds;
	is_argv(&c, &h,
		"/usr/bin/qemu-system-x86_64 -nodefaults -no-user-config -nographic -no-reboot "
		"-object memory-backend-memfd,id=mem,size=512M,share=on "
		"-global virtio-mmio.force-legacy=false "
		"-M microvm,x-option-roms=off,isa-serial=on,rtc=on,memory-backend=mem "
		"-accel tcg -cpu max -smp 1 -m 512 "
		"-kernel /k/vmlinux -append 'console=ttyS0 pci=off tsc=reliable no_timer_check' "
		"-chardev socket,id=qmp,fd=3 -mon chardev=qmp,mode=control -S -serial null "
		"-device virtio-rng-device "
		"-chardev socket,id=fs0,fd=6 -device vhost-user-fs-device,chardev=fs0,tag=bind0 "
		"-chardev socket,id=fs1,fd=7 -device vhost-user-fs-device,chardev=fs1,tag=bind1",
		"x86_64 virtio-fs: memfd RAM, modern mmio, vhost-user-fs per share");
	c.arch = VM_ARCH_AARCH64;
	c.n_shares = 1;
	h.binary = "qemu-system-aarch64";
	is_argv(&c, &h,
		"qemu-system-aarch64 -nodefaults -no-user-config -nographic -no-reboot "
		"-object memory-backend-memfd,id=mem,size=512M,share=on "
		"-global virtio-mmio.force-legacy=false "
		"-M virt,memory-backend=mem -accel tcg -cpu cortex-a72 -smp 1 -m 512 "
		"-kernel /k/vmlinux -append console=ttyAMA0 "
		"-chardev socket,id=qmp,fd=3 -mon chardev=qmp,mode=control -S -serial null "
		"-device virtio-rng-device "
		"-chardev socket,id=fs0,fd=6 -device vhost-user-fs-device,chardev=fs0,tag=bind0",
		"aarch64 virtio-fs");
	c.n_shares = 0;
	h.binary = "/usr/bin/qemu-system-x86_64";
	c.arch = VM_ARCH_X86_64;
	is_argv(&c, &h,
		"/usr/bin/qemu-system-x86_64 -nodefaults -no-user-config -nographic -no-reboot "
		"-M microvm,x-option-roms=off,isa-serial=on,rtc=on "
		"-accel tcg -cpu max -smp 1 -m 512 "
		"-kernel /k/vmlinux -append 'console=ttyS0 pci=off tsc=reliable no_timer_check' "
		"-chardev socket,id=qmp,fd=3 -mon chardev=qmp,mode=control -S -serial null "
		"-device virtio-rng-device",
		"virtio-fs with no shares: plain RAM, legacy mmio as before");
}

int main(void)
{
	test_quote();
	test_minimal();
	test_full();
	test_virtiofs();
	test_errors();
	test_names();
	return done_testing();
}
