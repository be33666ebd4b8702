/* The embedded blobs and kernel resolution (initrd/blobs.h).
 *
 * The bytes come from initrd/blobs_data.S, assembled by the Makefile per
 * link variant; every symbol pair exists in every variant and an absent
 * blob is empty, so this file has no per-build conditionals.  Called by the
 * runtime role and `container system kernel`.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "initrd/blobs.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/mem.h"
#include "lib/paths.h"

extern const unsigned char blobs__initramfs_x86_64_start[], blobs__initramfs_x86_64_end[];
extern const unsigned char blobs__initramfs_aarch64_start[], blobs__initramfs_aarch64_end[];
extern const unsigned char blobs__kernel_x86_64_start[], blobs__kernel_x86_64_end[];
extern const unsigned char blobs__kernel_aarch64_start[], blobs__kernel_aarch64_end[];

static int embedded(const unsigned char *start, const unsigned char *end, struct vm_blob *out)
{
	memset(out, 0, sizeof(*out));
	/* As integers: the symbols are distinct objects to the compiler, which
	 * may assume they never compare equal. */
	if ((uintptr_t)end <= (uintptr_t)start)
		return -ENOENT;
	out->data = start;
	out->len = (size_t)(end - start);
	return 0;
}

int blobs_initramfs(enum vm_arch arch, struct vm_blob *out, struct err *e)
{
	int rc = -EINVAL;

	if (arch == VM_ARCH_X86_64)
		rc = embedded(blobs__initramfs_x86_64_start, blobs__initramfs_x86_64_end, out);
	else if (arch == VM_ARCH_AARCH64)
		rc = embedded(blobs__initramfs_aarch64_start, blobs__initramfs_aarch64_end, out);
	if (rc == -EINVAL)
		return err_set(e, rc, "unknown architecture %d", (int)arch);
	if (rc < 0)
		return err_set(e, rc, "this binary embeds no initramfs for %s", vm_arch_name(arch));
	return 0;
}

int blobs_kernel(enum vm_arch arch, struct vm_blob *out, struct err *e)
{
	int rc = -EINVAL;

	if (arch == VM_ARCH_X86_64)
		rc = embedded(blobs__kernel_x86_64_start, blobs__kernel_x86_64_end, out);
	else if (arch == VM_ARCH_AARCH64)
		rc = embedded(blobs__kernel_aarch64_start, blobs__kernel_aarch64_end, out);
	if (rc == -EINVAL)
		return err_set(e, rc, "unknown architecture %d", (int)arch);
	if (rc < 0)
		return err_set(e, rc, "this binary embeds no kernel for %s (not a release build)",
			       vm_arch_name(arch));
	return 0;
}

static uint16_t le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

int blobs_kernel_check(enum vm_arch arch, const void *head, size_t len, struct err *e)
{
	const unsigned char *p = head;

	if (arch == VM_ARCH_X86_64) {
		/* QEMU boots an uncompressed ELF vmlinux through its PVH note
		 * (what initrd/kernel/build.sh installs); a bzImage would need
		 * the decompressor path, which the backend does not use. */
		if (len >= 0x206 && memcmp(p + 0x202, "HdrS", 4) == 0)
			return err_set(e, -EINVAL,
				       "a bzImage, not an ELF vmlinux: use the uncompressed "
				       "vmlinux (with a PVH note) for x86_64");
		if (len < 64 || memcmp(p, "\177ELF", 4) != 0)
			return err_set(e, -EINVAL, "not an x86_64 kernel: want an ELF vmlinux");
		if (p[4] != 2 || p[5] != 1 || le16(p + 18) != 62 /* EM_X86_64 */)
			return err_set(e, -EINVAL, "an ELF file, but not a 64-bit x86_64 one");
		if (le16(p + 16) != 2 /* ET_EXEC */)
			return err_set(e, -EINVAL,
				       "an x86_64 ELF file, but not an executable (vmlinux)");
		return 0;
	}
	if (arch == VM_ARCH_AARCH64) {
		/* Documentation/arm64/booting.rst: the Image header's magic. */
		if (len < 64 || memcmp(p + 56, "ARM\x64", 4) != 0)
			return err_set(e, -EINVAL,
				       "not an arm64 kernel Image (no \"ARM\\x64\" magic at "
				       "offset 56)");
		return 0;
	}
	return err_set(e, -EINVAL, "unknown architecture %d", (int)arch);
}

int blobs_kernel_check_file(enum vm_arch arch, const char *path, struct err *e)
{
	unsigned char head[1024];
	struct stat st;
	ssize_t n;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "%s", path);
	if (fstat(fd, &st) < 0)
		rc = err_sys(e, "%s", path);
	else if (!S_ISREG(st.st_mode))
		rc = err_set(e, -EINVAL, "%s: not a regular file", path);
	else
		rc = 0;
	if (rc < 0) {
		close(fd);
		return rc;
	}
	n = fs_read_full(fd, head, sizeof(head), e);
	close(fd);
	if (n < 0)
		return err_wrap(e, "%s", path);
	if (blobs_kernel_check(arch, head, (size_t)n, e) < 0)
		return err_wrap(e, "%s", path);
	return 0;
}

int blobs_kernel_installed_path(enum vm_arch arch, struct buf *out, struct err *e)
{
	const char *name = vm_arch_name(arch);
	int rc;

	if (arch != VM_ARCH_X86_64 && arch != VM_ARCH_AARCH64)
		return err_set(e, -EINVAL, "unknown architecture %d", (int)arch);
	if ((rc = paths_data_dir(out, e)) < 0)
		return rc;
	if (buf_printf(out, "/kernels/%s/kernel", name) < 0)
		return err_set(e, -ENAMETOOLONG, "kernel path too long");
	return 0;
}

int blobs_kernel_resolve(enum vm_arch arch, const char *explicit_path, struct vm_blob *out,
			 struct buf *path_out, struct err *e)
{
	struct buf p = BUF_INIT;
	struct stat st;
	size_t at = path_out->len;
	int rc;

	memset(out, 0, sizeof(*out));
	if (explicit_path) {
		/* Given on purpose: an error here is the answer, no fallback. */
		if ((rc = blobs_kernel_check_file(arch, explicit_path, e)) < 0)
			return rc;
		if (buf_puts(path_out, explicit_path) < 0)
			return err_set(e, -ENAMETOOLONG, "kernel path too long");
		goto found;
	}
	if ((rc = blobs_kernel_installed_path(arch, &p, e)) < 0)
		goto out;
	if (stat(buf_str(&p), &st) == 0) {
		if ((rc = blobs_kernel_check_file(arch, buf_str(&p), e)) < 0) {
			err_wrap(
			    e, "installed kernel (replace it with 'container system kernel set')");
			goto out;
		}
		if (buf_append(path_out, p.data, p.len) < 0) {
			rc = err_set(e, -ENAMETOOLONG, "kernel path too long");
			goto out;
		}
		buf_free(&p);
		goto found;
	}
	if (errno != ENOENT) {
		rc = err_sys(e, "%s", buf_str(&p));
		goto out;
	}
	if (blobs_kernel(arch, out, NULL) == 0) {
		rc = 0;
		goto out;
	}
	rc = err_set(e, -ENOENT,
		     "no kernel for %s: run 'container system kernel set --binary PATH' (or use a "
		     "release build, which embeds one)",
		     vm_arch_name(arch));
out:
	buf_free(&p);
	return rc;
found:
	/* Point into path_out only now: appending may have moved its data. */
	out->path = path_out->data + at;
	return 0;
}
