/*
 * Soft-CPU test guest (64-bit, linked and loaded at 0x10000) for REP MOVS/STOS
 * (test/soft/rep-bulk.test.ts), run with whole-page copies and fills and one element at a time:
 * fills and copies that start unaligned and cross pages, copies whose destination starts inside
 * the source (a repeating pattern) or before it, a backward copy (DF = 1), 32-bit addresses,
 * and a copy and a fill that run from RAM into MMIO (GPA 0x80000 and up: each element there is
 * a memory exit). OUT 0xf4 ends the run.
 */
	.code64
	.globl _start
_start:
	cld
	/* A pattern to copy from: 0x20000.. gets 0x9000 bytes of a counter. */
	mov $0x20000, %edi
	mov $0x9000, %ecx
	xor %eax, %eax
1:	mov %al, (%rdi)
	add $7, %al
	inc %rdi
	dec %ecx
	jnz 1b

	movabs $0x1122334455667788, %rax
	mov $0x30003, %edi
	mov $1000, %ecx
	rep stosq			/* unaligned, across two pages */
	mov $0x5a, %al
	mov $0x31fff, %edi
	mov $5000, %ecx
	rep stosb
	mov $0x3456, %ax
	mov $0x33801, %edi
	mov $3000, %ecx
	rep stosw
	mov $0x789abcde, %eax
	mov $0x35002, %edi
	mov $2100, %ecx
	rep stosl

	mov $0x20003, %esi
	mov $0x40001, %edi
	mov $6000, %ecx
	rep movsb			/* no overlap */
	mov $0x21000, %esi
	mov $0x21008, %edi
	mov $700, %ecx
	rep movsq			/* destination inside the source: an 8-byte pattern repeats */
	mov $0x23004, %esi
	mov $0x23000, %edi
	mov $1500, %ecx
	rep movsl			/* destination just before the source */
	std
	mov $0x28ffe, %esi
	mov $0x45ffe, %edi
	mov $2222, %ecx
	rep movsw			/* backward */
	cld
	mov $0x26000, %esi
	mov $0x48ffd, %edi
	mov $4099, %ecx
	addr32 rep movsb		/* 32-bit addresses */

	mov $0x24000, %esi
	mov $0x7fff0, %edi
	mov $24, %ecx
	rep movsb			/* the last 8 bytes go to MMIO */
	mov $0x7fffc, %edi
	mov $3, %ecx
	mov $0x66, %al
	rep stosw			/* 4 bytes of RAM, then one MMIO word */
	mov $0x44, %al
	out %al, $0xf4
	hlt
