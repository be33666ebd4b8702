/* Unit tests for initrd/blobs.c in the blob-less (native) build: nothing is
 * embedded, the kernel checks tell kernels from other files, and kernel
 * resolution follows initrd/blobs.h's order (explicit, installed, embedded,
 * else a message naming `container system kernel set`). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "initrd/blobs.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "t/tap.h"

static char tmp[] = "/tmp/initrd_blobs.XXXXXX";

/* A minimal ELF64 header: class, data, type, machine. */
static void fake_elf(unsigned char *h, size_t n, unsigned machine, unsigned type)
{
	memset(h, 0, n);
	memcpy(h, "\177ELF", 4);
	h[4] = 2; /* ELFCLASS64 */
	h[5] = 1; /* little endian */
	h[6] = 1;
	h[16] = (unsigned char)type;
	h[18] = (unsigned char)machine;
	h[19] = (unsigned char)(machine >> 8);
}

static void fake_image(unsigned char *h, size_t n)
{
	memset(h, 0, n);
	memcpy(h + 56, "ARM\x64", 4);
}

static void write_file(const char *path, const void *p, size_t n)
{
	struct err e = ERR_INIT;

	if (fs_write_atomic(path, p, n, 0644, &e) < 0)
		diag("write %s: %s", path, e.msg);
}

static void test_embedded_none(void)
{
	struct vm_blob b = {"x", "y", 1};
	struct err e = ERR_INIT;

	is_int(blobs_initramfs(VM_ARCH_X86_64, &b, &e), -ENOENT,
	       "native build: no x86_64 initramfs");
	ok(b.data == NULL && b.path == NULL && b.len == 0, "blob cleared");
	ok(strstr(e.msg, "x86_64") != NULL, "message names the arch: %s", e.msg);
	is_int(blobs_initramfs(VM_ARCH_AARCH64, &b, &e), -ENOENT,
	       "native build: no aarch64 initramfs");
	is_int(blobs_kernel(VM_ARCH_X86_64, &b, &e), -ENOENT, "native build: no kernel");
	ok(strstr(e.msg, "release") != NULL, "message says why: %s", e.msg);
	is_int(blobs_initramfs((enum vm_arch)99, &b, &e), -EINVAL, "unknown arch refused");
}

static void test_check(void)
{
	unsigned char h[1024];
	struct err e = ERR_INIT;

	fake_elf(h, sizeof(h), 62, 2);
	is_int(blobs_kernel_check(VM_ARCH_X86_64, h, sizeof(h), &e), 0,
	       "x86_64 ELF executable accepted");
	is_int(blobs_kernel_check(VM_ARCH_AARCH64, h, sizeof(h), &e), -EINVAL,
	       "x86_64 vmlinux refused for aarch64");
	is_int(blobs_kernel_check(VM_ARCH_X86_64, h, 40, &e), -EINVAL, "truncated header refused");
	fake_elf(h, sizeof(h), 183, 2);
	is_int(blobs_kernel_check(VM_ARCH_X86_64, h, sizeof(h), &e), -EINVAL,
	       "aarch64 ELF refused for x86_64");
	ok(strstr(e.msg, "x86_64") != NULL, "message: %s", e.msg);
	fake_elf(h, sizeof(h), 62, 3);
	is_int(blobs_kernel_check(VM_ARCH_X86_64, h, sizeof(h), &e), -EINVAL, "ET_DYN refused");
	fake_elf(h, sizeof(h), 62, 2);
	h[4] = 1;
	is_int(blobs_kernel_check(VM_ARCH_X86_64, h, sizeof(h), &e), -EINVAL, "ELF32 refused");
	memset(h, 0, sizeof(h));
	memcpy(h + 0x202, "HdrS", 4);
	is_int(blobs_kernel_check(VM_ARCH_X86_64, h, sizeof(h), &e), -EINVAL, "bzImage refused");
	ok(strstr(e.msg, "bzImage") != NULL, "message names bzImage: %s", e.msg);
	fake_image(h, sizeof(h));
	is_int(blobs_kernel_check(VM_ARCH_AARCH64, h, sizeof(h), &e), 0, "arm64 Image accepted");
	is_int(blobs_kernel_check(VM_ARCH_X86_64, h, sizeof(h), &e), -EINVAL,
	       "arm64 Image refused for x86_64");
	is_int(blobs_kernel_check(VM_ARCH_AARCH64, h, 59, &e), -EINVAL, "magic cut short refused");
	memcpy(h, "#!/bin/sh\n", 10);
	h[56] = 'X';
	is_int(blobs_kernel_check(VM_ARCH_AARCH64, h, sizeof(h), &e), -EINVAL, "a script refused");
	ok(strstr(e.msg, "ARM") != NULL, "message names the magic: %s", e.msg);
	is_int(blobs_kernel_check_file(VM_ARCH_AARCH64, tmp, &e), -EINVAL, "a directory refused");
}

static void test_resolve(void)
{
	struct buf data = BUF_INIT, path = BUF_INIT, want = BUF_INIT, bad = BUF_INIT;
	unsigned char h[256];
	struct vm_blob b;
	struct err e = ERR_INIT;

	buf_printf(&data, "%s/data", tmp);
	setenv("CONTAINER_DATA_DIR", buf_str(&data), 1);
	is_int(blobs_kernel_installed_path(VM_ARCH_AARCH64, &path, &e), 0, "installed path");
	buf_printf(&want, "%s/kernels/aarch64/kernel", buf_str(&data));
	is_str(buf_str(&path), buf_str(&want), "installed path is <DATA>/kernels/<arch>/kernel");

	buf_reset(&path);
	is_int(blobs_kernel_resolve(VM_ARCH_AARCH64, NULL, &b, &path, &e), -ENOENT,
	       "nothing: -ENOENT");
	ok(strstr(e.msg, "container system kernel set --binary PATH") != NULL,
	   "message says what to do: %s", e.msg);

	buf_reset(&want);
	buf_printf(&want, "%s/kernels/aarch64", buf_str(&data));
	fs_mkdir_p(buf_str(&want), 0755, &e);
	buf_puts(&want, "/kernel");
	fake_image(h, sizeof(h));
	write_file(buf_str(&want), h, sizeof(h));
	buf_reset(&path);
	buf_puts(&path, "prefix:");
	is_int(blobs_kernel_resolve(VM_ARCH_AARCH64, NULL, &b, &path, &e), 0,
	       "installed kernel found");
	ok(b.path && strcmp(b.path, buf_str(&want)) == 0 && !b.data,
	   "resolved to the installed path");
	ok(strncmp(buf_str(&path), "prefix:", 7) == 0, "path appended to path_out");

	buf_printf(&bad, "%s/missing", tmp);
	buf_reset(&path);
	is_int(blobs_kernel_resolve(VM_ARCH_AARCH64, buf_str(&bad), &b, &path, &e), -ENOENT,
	       "missing explicit path: an error, no fallback to the installed one");
	buf_reset(&bad);
	buf_printf(&bad, "%s/notakernel", tmp);
	write_file(buf_str(&bad), "hello, world\n", 13);
	is_int(blobs_kernel_resolve(VM_ARCH_AARCH64, buf_str(&bad), &b, &path, &e), -EINVAL,
	       "explicit non-kernel refused");
	buf_reset(&path);
	is_int(blobs_kernel_resolve(VM_ARCH_AARCH64, buf_str(&want), &b, &path, &e), 0,
	       "explicit kernel");
	ok(b.path && strcmp(b.path, buf_str(&want)) == 0, "explicit path returned");

	/* Junk installed: a clear error, not a boot that fails later. */
	write_file(buf_str(&want), "junk", 4);
	buf_reset(&path);
	is_int(blobs_kernel_resolve(VM_ARCH_AARCH64, NULL, &b, &path, &e), -EINVAL,
	       "junk installed refused");
	ok(strstr(e.msg, "installed kernel") != NULL, "message: %s", e.msg);
	is_int(blobs_kernel_resolve(VM_ARCH_X86_64, NULL, &b, &path, &e), -ENOENT,
	       "other arch unaffected: still -ENOENT");

	buf_free(&data);
	buf_free(&path);
	buf_free(&want);
	buf_free(&bad);
}

int main(void)
{
	char cmd[64];

	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	test_embedded_none();
	test_check();
	test_resolve();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	if (system(cmd) != 0)
		diag("cleanup of %s failed", tmp);
	return done_testing();
}
