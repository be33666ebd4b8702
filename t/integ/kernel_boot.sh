#!/usr/bin/env bash
# t/integ/kernel_boot.sh — boot smoke test of the project's guest kernel
# (initrd/kernel/), run by `make test` through SHELL_TESTS; prints TAP.
#
# For each architecture whose kernel is cached (or built here when
# CONTAINER_KERNEL_BUILD=1), it boots QEMU with a throwaway initramfs whose
# /init mounts proc/sys/devtmpfs, prints facts as "KB: <key> <value>" lines,
# mounts an ext4 disk, an overlay on it and a 9p share, then powers off.
# The checks: /init is reached, the filesystems and virtio devices the
# product needs are there, the disk/overlay/9p mounts work, and QEMU exits by
# itself on power-off.  Boot times are TAP diagnostics, not assertions.
#
# x86_64 /init is a shell script run by Debian's static busybox; arm64 /init
# is a small static C program (no arm64 busybox on an amd64 host), compiled
# here with aarch64-linux-gnu-gcc.
#
# Command lines that work (copy these into vm/qemu.c):
#
#   qemu-system-x86_64 -M microvm -accel tcg -cpu max
#     (KVM: -accel kvm -cpu host) -m 256 -smp 1 -nodefaults -no-user-config
#     -display none -serial stdio -no-reboot
#     -kernel vmlinux -initrd initramfs.cpio
#     -append "console=ttyS0 quiet panic=-1 pci=off tsc=reliable no_timer_check
#              tsc_early_khz=<host TSC kHz, TCG only>"
#     -drive id=d0,file=disk.img,format=raw,if=none,readonly=on
#     -device virtio-blk-device,drive=d0
#     -netdev user,id=n0,restrict=on -device virtio-net-device,netdev=n0
#     -device virtio-serial-device -chardev null,id=c0
#     -device virtserialport,chardev=c0,name=agent
#     -device virtio-rng-device -device virtio-balloon-device
#     -fsdev local,id=f0,path=DIR,security_model=none,readonly=on
#     -device virtio-9p-device,fsdev=f0,mount_tag=share
#
#   Microvm keeps ACPI on (its default): ACPI describes the virtio-mmio devices
#   and provides the S5 sleep state through which reboot(POWER_OFF) ends QEMU
#   (with acpi=off QEMU appends virtio_mmio.device= itself and the guest boots,
#   but power-off only halts; reboot(RESTART) + -no-reboot would end it).
#   Under TCG, tsc_early_khz= is mandatory, see host_tsc_khz() below: without
#   it the kernel hangs before /init.  pci=off skips probing the PCI ports
#   microvm lacks (drop it with microvm's pcie=on and *-pci devices);
#   tsc=reliable no_timer_check skip the clocksource watchdog and the IO-APIC
#   timer check, which misfire when TCG runs on a loaded host.  The kernel is
#   the uncompressed vmlinux, booted through its PVH entry: no decompressor.
#   A guest panic (panic=-1) or reset also makes QEMU exit 0 under -no-reboot:
#   tell them from a power-off by QMP's SHUTDOWN event reason, not the status.
#
#   qemu-system-aarch64 -M virt -cpu cortex-a72 -accel tcg -m 256 -smp 1
#     -nodefaults -no-user-config -display none -serial stdio -no-reboot
#     -kernel Image -initrd initramfs.cpio -append "console=ttyAMA0 quiet panic=-1"
#     with the same devices as *-pci (virtio-blk-pci, virtio-net-pci,
#     virtio-serial-pci, virtio-rng-pci, virtio-balloon-pci, virtio-9p-pci)
#
#   -cpu max is pathologically slow under TCG on aarch64 (pointer
#   authentication); cortex-a72 is fast.  PSCI SYSTEM_OFF ends QEMU.
#
# Environment: CONTAINER_KERNEL_BUILD=1 builds a missing kernel (~12 min per
# architecture on 2 cores); TMPDIR holds the scratch files.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build="$root/initrd/kernel/build.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/kernel_boot.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
skip() { local i; for ((i = 0; i < $1; i++)); do n=$((n + 1)); echo "ok $n # SKIP $2"; done; }
diag() { echo "# $*"; }
have() { command -v "$1" >/dev/null 2>&1; }
now() { date +%s.%N; }

# Writes a newc cpio archive from a spec on stdin, one entry a line:
#   dir NAME MODE | file NAME MODE SOURCE | nod NAME MODE MAJOR MINOR (char)
# A generator rather than cpio(1): /dev/console must be a device node in the
# archive (the kernel opens it for /init before anything is mounted), and
# making one with mknod needs root.
mkcpio() {
	perl -e '
		use strict; my $ino = 1; my $out = "";
		sub pad { my $l = length($out) % 4; $out .= "\0" x ((4 - $l) % 4) }
		sub ent { my ($name, $mode, $data, $maj, $min) = @_;
			$out .= sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
				$ino++, $mode, 0, 0, 1, 0, length($data), 0, 0, $maj, $min,
				length($name) + 1, 0) . $name . "\0";
			pad(); $out .= $data; pad(); }
		while (<STDIN>) { chomp; my @f = split / /;
			if ($f[0] eq "dir") { ent($f[1], 0040000 | oct($f[2]), "", 0, 0) }
			elsif ($f[0] eq "nod") { ent($f[1], 0020000 | oct($f[2]), "", $f[3], $f[4]) }
			elsif ($f[0] eq "file") { open(my $h, "<", $f[3]) or die "$f[3]: $!";
				binmode $h; local $/; my $d = <$h>; ent($f[1], 0100000 | oct($f[2]), $d, 0, 0) }
			else { die "bad spec line: $_" } }
		ent("TRAILER!!!", 0, "", 0, 0); print $out;'
}

# The x86_64 /init: busybox sh.  Every fact goes out as "KB: key value".
cat >"$work/init.sh" <<'EOF'
#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /bin /sbin /usr/bin /usr/sbin
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "KB: init $(cut -d' ' -f1 /proc/uptime)"
echo "KB: uname $(uname -r) $(uname -m)"
echo "KB: cmdline $(cat /proc/cmdline)"
while read -r a b; do echo "KB: fs ${b:-$a}"; done </proc/filesystems
for d in /sys/bus/virtio/devices/*; do
	[ -e "$d/device" ] && echo "KB: virtio $(cat "$d/device")"
done
mkdir -p /mnt/lower /mnt/rw /mnt/merged /mnt/share
mount -t ext4 -o ro /dev/vda /mnt/lower && echo "KB: disk $(cat /mnt/lower/hello)"
mount -t tmpfs tmpfs /mnt/rw && mkdir /mnt/rw/upper /mnt/rw/work &&
	mount -t overlay overlay -o lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work /mnt/merged &&
	echo written >/mnt/merged/new &&
	echo "KB: overlay $(cat /mnt/merged/hello) $(cat /mnt/rw/upper/new)"
mount -t 9p -o trans=virtio,version=9p2000.L,ro share /mnt/share && echo "KB: 9p $(cat /mnt/share/hello)"
echo "KB: done $(cut -d' ' -f1 /proc/uptime)"
poweroff -f
EOF

# The arm64 /init: the same facts from C.
cat >"$work/init.c" <<'EOF'
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

/* First line of a file, newline stripped; "" when unreadable. */
static const char *line(const char *path, char *buf, int len)
{
	FILE *f = fopen(path, "r");
	buf[0] = 0;
	if (f) {
		if (!fgets(buf, len, f))
			buf[0] = 0;
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = 0;
	return buf;
}

static void uptime(const char *tag)
{
	char b[64];
	line("/proc/uptime", b, sizeof b);
	b[strcspn(b, " ")] = 0;
	printf("KB: %s %s\n", tag, b);
}

int main(void)
{
	char b[512], p[300];
	struct utsname u;
	struct dirent *de;
	DIR *d;
	FILE *f;

	setvbuf(stdout, NULL, _IOLBF, 0);
	mkdir("/proc", 0755); mkdir("/sys", 0755); mkdir("/dev", 0755);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	uptime("init");
	uname(&u);
	printf("KB: uname %s %s\n", u.release, u.machine);
	printf("KB: cmdline %s\n", line("/proc/cmdline", b, sizeof b));
	if ((f = fopen("/proc/filesystems", "r"))) {
		while (fgets(b, sizeof b, f)) {
			char *name = strrchr(b, '\t');
			b[strcspn(b, "\n")] = 0;
			printf("KB: fs %s\n", name ? name + 1 : b);
		}
		fclose(f);
	}
	if ((d = opendir("/sys/bus/virtio/devices"))) {
		while ((de = readdir(d)))
			if (de->d_name[0] != '.') {
				snprintf(p, sizeof p, "/sys/bus/virtio/devices/%s/device", de->d_name);
				printf("KB: virtio %s\n", line(p, b, sizeof b));
			}
		closedir(d);
	}
	mkdir("/mnt", 0755); mkdir("/mnt/lower", 0755); mkdir("/mnt/rw", 0755);
	mkdir("/mnt/merged", 0755); mkdir("/mnt/share", 0755);
	if (mount("/dev/vda", "/mnt/lower", "ext4", MS_RDONLY, NULL) == 0)
		printf("KB: disk %s\n", line("/mnt/lower/hello", b, sizeof b));
	if (mount("tmpfs", "/mnt/rw", "tmpfs", 0, NULL) == 0 &&
	    mkdir("/mnt/rw/upper", 0755) == 0 && mkdir("/mnt/rw/work", 0755) == 0 &&
	    mount("overlay", "/mnt/merged", "overlay", 0,
		  "lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work") == 0 &&
	    (f = fopen("/mnt/merged/new", "w"))) {
		fputs("written\n", f);
		fclose(f);
		printf("KB: overlay %s", line("/mnt/merged/hello", b, sizeof b));
		printf(" %s\n", line("/mnt/rw/upper/new", b, sizeof b));
	}
	if (mount("share", "/mnt/share", "9p", MS_RDONLY, "trans=virtio,version=9p2000.L") == 0)
		printf("KB: 9p %s\n", line("/mnt/share/hello", b, sizeof b));
	uptime("done");
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
EOF

# Under TCG an x86 guest has no usable clock reference on microvm: no
# kvmclock, no HPET, no ACPI PM timer, and the PIT is neither calibratable
# (no port 0x61) nor routed as Linux expects (microvm's MADT has no IRQ0
# override), so the kernel hangs calibrating.  TCG's guest TSC is the host's
# TSC, so the host's TSC rate, measured here against CLOCK_MONOTONIC_RAW,
# is passed as tsc_early_khz=.  KVM guests use kvmclock and need none of it.
. "$here/tsc.sh"

# Shared inputs: an ext4 disk image and a 9p share, each holding "hello".
mkdir -p "$work/share" "$work/diskroot"
echo "from-9p" >"$work/share/hello"
echo "from-ext4" >"$work/diskroot/hello"
have_disk=0
if have mkfs.ext4 && mkfs.ext4 -q -F -d "$work/diskroot" "$work/disk.img" 8M >/dev/null 2>&1; then
	have_disk=1
else
	truncate -s 8M "$work/disk.img"
fi

per_arch=20

# boot ARCH: everything for one architecture; emits exactly $per_arch results.
boot() {
	local arch=$1 qemu kernel rc busybox init cc console cmdline t0 t1
	local -a qargs devs
	case "$arch" in
	x86_64) qemu=qemu-system-x86_64 march=x86_64 ;;
	arm64) qemu=qemu-system-aarch64 march=aarch64 ;;
	esac

	if ! have "$qemu"; then skip $per_arch "$arch: $qemu not installed"; return; fi
	kernel=$("$build" --cached "$arch" 2>/dev/null | tail -n1)
	if [ -z "$kernel" ] || [ ! -s "$kernel" ]; then
		if [ "${CONTAINER_KERNEL_BUILD:-0}" != 1 ]; then
			skip $per_arch "$arch kernel not built (run initrd/kernel/build.sh $arch, or set CONTAINER_KERNEL_BUILD=1)"
			return
		fi
		if ! kernel=$("$build" "$arch" 2>"$work/build-$arch.log" | tail -n1) || [ ! -s "$kernel" ]; then
			sed 's/^/# /' "$work/build-$arch.log" | tail -n 20
			not_ok "$arch: kernel builds"
			skip $((per_arch - 1)) "$arch kernel build failed"
			return
		fi
	fi
	diag "$arch kernel: $kernel ($(stat -c %s "$kernel") bytes)"

	# The initramfs.
	mkdir -p "$work/$arch"
	if [ "$arch" = x86_64 ]; then
		busybox=/bin/busybox
		if [ ! -x "$busybox" ] || ! file_is_static "$busybox"; then
			skip $per_arch "$arch: static /bin/busybox missing (apt-get install busybox-static)"
			return
		fi
		init="$work/init.sh"
		printf 'dir bin 755\nfile bin/busybox 755 %s\n' "$busybox" >"$work/$arch/spec"
	else
		cc=aarch64-linux-gnu-gcc
		[ "$(uname -m)" = aarch64 ] && cc=cc
		if ! have "$cc" || ! "$cc" -static -O1 -o "$work/$arch/init" "$work/init.c" 2>"$work/$arch/cc.log"; then
			skip $per_arch "$arch: cannot build a static arm64 /init ($cc, libc6-dev-arm64-cross)"
			return
		fi
		init="$work/$arch/init"
		: >"$work/$arch/spec"
	fi
	printf 'file init 755 %s\ndir dev 755\nnod dev/console 600 5 1\n' "$init" >>"$work/$arch/spec"
	if ! mkcpio <"$work/$arch/spec" >"$work/$arch/initramfs.cpio"; then
		skip $per_arch "$arch: could not write the initramfs (perl)"
		return
	fi

	# The machine.
	if [ "$arch" = x86_64 ]; then
		cmdline="console=ttyS0 quiet panic=-1 pci=off tsc=reliable no_timer_check"
		qargs=(-M microvm)
		if [ "$(uname -m)" = x86_64 ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
			qargs+=(-accel kvm -cpu host)
		else
			local khz
			if [ "$(uname -m)" != x86_64 ] || ! khz=$(host_tsc_khz) || [ -z "$khz" ]; then
				skip $per_arch "$arch: cannot measure the host TSC rate a TCG guest needs (cc)"
				return
			fi
			cmdline="$cmdline tsc_early_khz=$khz"
			qargs+=(-accel tcg -cpu max)
		fi
		devs=(virtio-blk-device virtio-net-device virtio-serial-device
			virtio-rng-device virtio-balloon-device virtio-9p-device)
	else
		cmdline="console=ttyAMA0 quiet panic=-1"
		qargs=(-M virt)
		if [ "$(uname -m)" = aarch64 ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
			qargs+=(-accel kvm -cpu host)
		else
			qargs+=(-accel tcg -cpu cortex-a72)
		fi
		devs=(virtio-blk-pci virtio-net-pci virtio-serial-pci
			virtio-rng-pci virtio-balloon-pci virtio-9p-pci)
	fi
	qargs+=(-m 256 -smp 1 -nodefaults -no-user-config -display none -serial stdio -no-reboot
		-kernel "$kernel" -initrd "$work/$arch/initramfs.cpio" -append "$cmdline"
		-drive "id=d0,file=$work/disk.img,format=raw,if=none,readonly=on"
		-device "${devs[0]},drive=d0"
		-netdev user,id=n0,restrict=on -device "${devs[1]},netdev=n0"
		-device "${devs[2]}" -chardev null,id=c0 -device virtserialport,chardev=c0,name=agent
		-device "${devs[3]}" -device "${devs[4]}"
		-fsdev "local,id=f0,path=$work/share,security_model=none,readonly=on"
		-device "${devs[5]},fsdev=f0,mount_tag=share")

	console="$work/$arch/console.log"
	t0=$(now)
	timeout "${KERNEL_BOOT_TIMEOUT:-180}" "$qemu" "${qargs[@]}" </dev/null >"$console" 2>&1
	rc=$?
	t1=$(now)
	tr -d '\r' <"$console" >"$console.txt"
	kb() { sed -n "s/^KB: $1 //p" "$console.txt"; }

	check "$arch: the kernel reaches /init" grep -q '^KB: init ' "$console.txt"
	if ! grep -q '^KB: init ' "$console.txt"; then
		diag "$arch console (last 30 lines):"
		tail -n 30 "$console.txt" | sed 's/^/#   /'
	fi
	local fs
	for fs in ext4 overlay 9p virtiofs tmpfs devtmpfs proc sysfs; do
		check "$arch: /proc/filesystems has $fs" grep -qx "$fs" <(kb fs)
	done
	# virtio device ids: 1 net, 2 block, 3 console, 4 rng, 5 balloon, 9 9p.
	local id name
	for id in 0x0001:net 0x0002:block 0x0003:console 0x0004:rng 0x0005:balloon 0x0009:9p; do
		name=${id#*:}; id=${id%%:*}
		check "$arch: virtio $name device ($id) is probed" grep -qx "$id" <(kb virtio)
	done
	check "$arch: uname is $march with the -container release" \
		grep -qE -- "-container $march\$" <(kb uname)
	if [ "$have_disk" = 1 ]; then
		check "$arch: the ext4 disk mounts read-only" grep -qx "from-ext4" <(kb disk)
		check "$arch: overlayfs on the ext4 disk reads the image and writes upper" \
			grep -qx "from-ext4 written" <(kb overlay)
	else
		skip 2 "$arch: mkfs.ext4 missing (e2fsprogs), no ext4 disk"
	fi
	check "$arch: the 9p share is readable" grep -qx "from-9p" <(kb 9p)
	check "$arch: QEMU exits by itself on power-off (exit $rc)" [ "$rc" = 0 ]

	diag "$arch: wall $(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }") s from QEMU spawn to exit;" \
		"guest uptime at /init $(kb init) s, before power-off $(kb done) s"
	diag "$arch: command line: $(kb cmdline)"
}

# True when the 64-bit little-endian ELF file has no PT_INTERP program
# header, i.e. runs without a dynamic loader (Debian's `busybox` package is
# dynamic, `busybox-static` is not).
file_is_static() {
	perl -e '
		open(my $h, "<", $ARGV[0]) or exit 1; binmode $h; local $/; my $f = <$h>;
		exit 1 unless substr($f, 0, 5) eq "\x7fELF\x02";
		my ($phoff) = unpack("Q<", substr($f, 0x20, 8));
		my ($phent, $phnum) = unpack("v v", substr($f, 0x36, 4));
		for my $i (0 .. $phnum - 1) {
			exit 1 if unpack("V", substr($f, $phoff + $i * $phent, 4)) == 3;
		}
		exit 0;' "$1"
}

boot x86_64
boot arm64
echo "1..$n"
