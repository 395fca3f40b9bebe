/*
 * The P4 compute loop of soft-bench.S as a 32-bit multiboot kernel (for emulators that load
 * one directly: v86 in bench/p4-soft-mips.bench.ts, and the soft backend through that bench's
 * multiboot loader). Linked at 0x200000 with the multiboot address fields (flags bit 16), so no
 * ELF is needed. Entered in flat 32-bit protected mode (multiboot: EAX = 0x2BADB002, paging
 * off), it runs ITERATIONS of the same 10-instruction loop on the same data (0x100000-0x10ffff),
 * writes EAX (the checksum) byte by byte to COM1's transmit register (port 0x3f8) and halts.
 * The iteration count is the imm32 after the marker bytes B9 at label `count`, as in soft-bench.
 */
	.code32
	.globl _start
_start:
	jmp entry
	.p2align 2
mb_header:
	.long 0x1badb002		/* magic */
	.long 0x00010000		/* flags: the address fields below are valid */
	.long -(0x1badb002 + 0x00010000)
	.long mb_header			/* header_addr */
	.long _start			/* load_addr */
	.long end			/* load_end_addr */
	.long end			/* bss_end_addr */
	.long entry			/* entry_addr */

entry:
	cli
	mov $0x80000, %esp
	.include "soft-bench-loop.inc"
	/* checksum to COM1, low byte first, then stop */
	mov $0x3f8, %dx
	out %al, %dx
	shr $8, %eax
	out %al, %dx
	shr $8, %eax
	out %al, %dx
	shr $8, %eax
	out %al, %dx
2:	hlt
	jmp 2b
	.p2align 4
end:
