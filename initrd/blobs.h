/* The guest pieces inside this binary, and where a VM's kernel comes from.
 *
 * The build links into each host binary a cpio (newc) initramfs per guest
 * architecture it can run, whose /init is the static build of this same
 * program for that architecture (made by the Makefile from a blob-less
 * link of the same objects): linux-amd64 carries x86_64 and aarch64 (the
 * latter for --arch arm64 under emulation), linux-arm64 and darwin-arm64
 * carry aarch64.  `make release` also links the guest kernel(s) of those
 * architectures.  The bytes come from initrd/blobs_data.S (.incbin); the
 * initramfs is a raw newc cpio unless built with INITRAMFS_COMPRESS=gzip,
 * and `container system initramfs --arch A > FILE` (hidden) dumps it.
 *
 * Kernel resolution, first hit wins:
 *   1. an explicit path (run --kernel PATH);
 *   2. the kernel installed by `container system kernel set`:
 *      <DATA>/kernels/<arch>/kernel;
 *   3. the kernel embedded in a release build;
 *   4. else -ENOENT: "no kernel for <arch>: run 'container system kernel
 *      set --binary PATH' (or use a release build, which embeds one)".
 *
 * Host side only; the guest's init never calls these.  Used by the runtime
 * role and `container system kernel`.
 */
#ifndef INITRD_BLOBS_H
#define INITRD_BLOBS_H

#include "vm/vm.h"

struct buf;
struct err;

/* The embedded initramfs for arch (borrowed, static): 0, or -ENOENT when
 * this binary carries none for arch (a guest-only or blob-less build). */
int blobs_initramfs(enum vm_arch arch, struct vm_blob *out, struct err *e);

/* The embedded kernel for arch: 0, or -ENOENT (not a release build). */
int blobs_kernel(enum vm_arch arch, struct vm_blob *out, struct err *e);

/* Resolve the kernel as above.  A path result is stored in *path_out
 * (appended; out->path points into it, so keep it alive and do not append
 * to it while out is in use); an embedded one sets out->data/len.  Paths
 * (explicit or installed) are checked with blobs_kernel_check_file: an
 * explicit path that is missing or no kernel is an error, never a reason
 * to fall back. */
int blobs_kernel_resolve(enum vm_arch arch, const char *explicit_path, struct vm_blob *out,
			 struct buf *path_out, struct err *e);

/* Does head (the first len bytes of a file; 1 KiB is plenty) look like a
 * kernel the backends boot for arch?  x86_64: an ELF64 x86-64 executable
 * (vmlinux; QEMU enters it through its PVH note); aarch64: an arm64 Image
 * ("ARM\x64" at offset 56).  0, or -EINVAL saying what it is instead. */
int blobs_kernel_check(enum vm_arch arch, const void *head, size_t len, struct err *e);
/* The same for a file: also refuses what is not a regular file. */
int blobs_kernel_check_file(enum vm_arch arch, const char *path, struct err *e);

/* <DATA>/kernels/<arch>/kernel, appended to out (<arch>: x86_64, aarch64). */
int blobs_kernel_installed_path(enum vm_arch arch, struct buf *out, struct err *e);

#endif
