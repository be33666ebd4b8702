/* stubkernel: write a tiny stand-in kernel so that the QEMU backend can be
 * tested against the real QEMU, with our exact command line, without a
 * Linux kernel (t/integ/vm_qemu.sh).  Each prints "STUB-CONSOLE-MARKER" on
 * the machine's console UART and then:
 *
 *   x86-halt       halts for ever (QEMU -M microvm boots it as PVH: a
 *   x86-reset      32-bit ELF with Xen's PHYS32_ENTRY note) / triple-faults,
 *                  which -no-reboot turns into an exit with guest-reset
 *   arm64-off      powers off through PSCI SYSTEM_OFF (hvc: QEMU -M virt's
 *   arm64-halt     conduit without EL2) / waits for interrupts for ever;
 *                  an arm64 Image (64-byte header, "ARM\x64" magic)
 *
 *   stubkernel MODE OUT */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MARKER "STUB-CONSOLE-MARKER\n"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

#define X86_LOAD 0x100000u /* 1 MiB, where PVH kernels are loaded */
#define X86_NOTE 116	   /* after the ELF header (52) and 2 program headers (64) */
#define X86_CODE 136	   /* after the 20-byte note */

static size_t x86(uint8_t *f, int reset)
{
	static const uint8_t loop[] = {
	    0xac,	/* 1: lodsb */
	    0x84, 0xc0, /* test al, al */
	    0x74, 0x03, /* jz 2f */
	    0xee,	/* out dx, al */
	    0xeb, 0xf8, /* jmp 1b */
	};
	uint8_t *c = f + X86_CODE;
	size_t n = 0, msg_imm, lidt_imm = 0, msg_off, idt_off, size;

	c[n++] = 0xba; /* mov edx, 0x3f8 (COM1) */
	put32(c + n, 0x3f8);
	n += 4;
	c[n++] = 0xbe; /* mov esi, msg */
	msg_imm = n;
	n += 4;
	memcpy(c + n, loop, sizeof(loop));
	n += sizeof(loop);
	if (reset) {
		/* 2: lidt [zero-limit IDT]; int3: no handler, triple fault */
		c[n++] = 0x0f;
		c[n++] = 0x01;
		c[n++] = 0x1d;
		lidt_imm = n;
		n += 4;
		c[n++] = 0xcc;
	}
	c[n++] = 0xfa; /* cli */
	c[n++] = 0xf4; /* 3: hlt */
	c[n++] = 0xeb; /* jmp 3b */
	c[n++] = 0xfd;
	msg_off = X86_CODE + n;
	memcpy(f + msg_off, MARKER, sizeof(MARKER));
	idt_off = msg_off + sizeof(MARKER); /* 6 zero bytes follow */
	size = idt_off + 8;
	put32(c + msg_imm, X86_LOAD + (uint32_t)msg_off);
	if (reset)
		put32(c + lidt_imm, X86_LOAD + (uint32_t)idt_off);

	memcpy(f, "\177ELF\1\1\1", 7); /* 32-bit, little-endian */
	put16(f + 16, 2);	       /* ET_EXEC */
	put16(f + 18, 3);	       /* EM_386 */
	put32(f + 20, 1);
	put32(f + 24, X86_LOAD + X86_CODE);
	put32(f + 28, 52); /* program headers */
	put16(f + 40, 52);
	put16(f + 42, 32);
	put16(f + 44, 2);
	uint8_t *ph = f + 52; /* PT_LOAD: the whole file at 1 MiB */
	put32(ph, 1);
	put32(ph + 8, X86_LOAD);
	put32(ph + 12, X86_LOAD);
	put32(ph + 16, (uint32_t)size);
	put32(ph + 20, (uint32_t)size);
	put32(ph + 24, 7);
	put32(ph + 28, 0x1000);
	ph += 32; /* PT_NOTE */
	put32(ph, 4);
	put32(ph + 4, X86_NOTE);
	put32(ph + 16, 20);
	put32(ph + 20, 20);
	put32(ph + 24, 4);
	put32(ph + 28, 4);
	uint8_t *note = f + X86_NOTE; /* Xen's PHYS32_ENTRY: boot as PVH */
	put32(note, 4);
	put32(note + 4, 4);
	put32(note + 8, 18);
	memcpy(note + 12, "Xen", 4);
	put32(note + 16, X86_LOAD + X86_CODE);
	return size;
}

static size_t arm64(uint8_t *f, int off)
{
	/* Position-independent; the message follows the code. */
	uint32_t code[] = {
	    0xd2a12001, /* movz x1, #0x0900, lsl #16: PL011 at 0x09000000 */
	    0,		/* adr x2, msg (filled below) */
	    0x38401443, /* 1: ldrb w3, [x2], #1 */
	    0x34000063, /* cbz w3, 2f (+3 instructions) */
	    0x39000023, /* strb w3, [x1] */
	    0x17fffffd, /* b 1b */
	    0xd2800100, /* 2: movz x0, #0x0008 */
	    0xf2b08000, /* movk x0, #0x8400, lsl #16: PSCI SYSTEM_OFF */
	    0xd4000002, /* hvc #0 */
	    0xd503207f, /* 3: wfi */
	    0x17ffffff, /* b 3b */
	};
	size_t n = sizeof(code) / sizeof(code[0]), msg_off = 64 + 4 * n, size;
	uint32_t adr = (uint32_t)(msg_off - (64 + 4)); /* from the adr itself */

	code[1] = 0x10000000 | ((adr & 3) << 29) | ((adr >> 2) << 5) | 2;
	if (!off)
		code[6] = code[7] = code[8] = 0xd503201f; /* nop */
	put32(f, 0x14000010);				  /* b +64: over the header */
	put64(f + 8, 0x80000);				  /* text_offset */
	size = msg_off + sizeof(MARKER);
	put64(f + 16, (size + 4095) & ~(uint64_t)4095); /* image_size */
	put64(f + 24, 2);				/* little-endian, 4K pages */
	memcpy(f + 56, "ARM\x64", 4);
	for (size_t i = 0; i < n; i++)
		put32(f + 64 + 4 * i, code[i]);
	memcpy(f + msg_off, MARKER, sizeof(MARKER));
	return size;
}

int main(int argc, char **argv)
{
	uint8_t f[1024] = {0};
	size_t size = 0;
	FILE *out;

	if (argc == 3 && strcmp(argv[1], "x86-halt") == 0)
		size = x86(f, 0);
	else if (argc == 3 && strcmp(argv[1], "x86-reset") == 0)
		size = x86(f, 1);
	else if (argc == 3 && strcmp(argv[1], "arm64-off") == 0)
		size = arm64(f, 1);
	else if (argc == 3 && strcmp(argv[1], "arm64-halt") == 0)
		size = arm64(f, 0);
	if (!size) {
		fprintf(stderr, "usage: stubkernel x86-halt|x86-reset|arm64-off|arm64-halt OUT\n");
		return 2;
	}
	if (!(out = fopen(argv[2], "wb")) || fwrite(f, 1, size, out) != size || fclose(out) != 0) {
		perror(argv[2]);
		return 1;
	}
	return 0;
}
