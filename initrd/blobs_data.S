/* The embedded blobs' bytes (initrd/blobs.h), pulled in with .incbin.
 *
 * Assembled by the Makefile once per link variant, each naming the files it
 * embeds with -D (absolute paths as C strings; the Makefile also makes the
 * object depend on them, since -MMD does not see .incbin):
 *   -DINITRAMFS_X86_64="..."  -DINITRAMFS_AARCH64="..."
 *   -DKERNEL_X86_64="..."     -DKERNEL_AARCH64="..."
 * Every start/end symbol pair is always defined; a blob not given is empty
 * (start == end), which initrd/blobs.c reports as -ENOENT.  Assembled with
 * nothing defined, this is the blob-less variant (guest binaries, native
 * unit tests).
 */
#if defined(__APPLE__)
#define SYM(x) _##x
	.section __TEXT,__const
#else
#define SYM(x) x
	.section .rodata
#endif

/* Assembler macros, not multi-statement cpp macros: the statement
 * separator differs (';' starts a comment on Darwin arm64). */
.macro blob start, end, file
	.globl \start
	.globl \end
	.balign 16
\start:
	.incbin "\file"
\end:
.endm

.macro noblob start, end
	.globl \start
	.globl \end
\start:
\end:
.endm

#define BLOB(name, file) blob SYM(name##_start), SYM(name##_end), file
#define NOBLOB(name) noblob SYM(name##_start), SYM(name##_end)

#ifdef INITRAMFS_X86_64
BLOB(blobs__initramfs_x86_64, INITRAMFS_X86_64)
#else
NOBLOB(blobs__initramfs_x86_64)
#endif
#ifdef INITRAMFS_AARCH64
BLOB(blobs__initramfs_aarch64, INITRAMFS_AARCH64)
#else
NOBLOB(blobs__initramfs_aarch64)
#endif
#ifdef KERNEL_X86_64
BLOB(blobs__kernel_x86_64, KERNEL_X86_64)
#else
NOBLOB(blobs__kernel_x86_64)
#endif
#ifdef KERNEL_AARCH64
BLOB(blobs__kernel_aarch64, KERNEL_AARCH64)
#else
NOBLOB(blobs__kernel_aarch64)
#endif

#if defined(__linux__) || defined(__ELF__)
	/* No executable stack for the binary because of this object. */
	.section .note.GNU-stack,"",@progbits
#endif
