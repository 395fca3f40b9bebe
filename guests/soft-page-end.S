/*
 * Soft-CPU test guest (64-bit, linked and loaded at 0x10000) for code at the end of a page
 * (test/soft/blocks.test.ts): a hot loop starts in the first page's last 14 bytes (blocks are
 * built there, up to the instruction that continues on the next page) and runs a MOV whose
 * immediate lies on the next page. Each pass stores its number into that immediate, a write to
 * the second page only: the MOV's decoded copy must not outlive the bytes it was decoded from.
 * EDX = 200 * 3 + (0 + 1 + ... + 199) = 20500 after 200 passes, sent with OUT 0xe9 (then OUT 0xf4 ends the run).
 */
	.code64
	.globl _start
_start:
	xor %edx, %edx
	mov $200, %ecx
	lea cross+1(%rip), %rdi
	xor %r8d, %r8d
	jmp loop

	.org 4096 - 12
loop:
	add $3, %edx			/* 3 bytes, at the page's 4084th byte */
	inc %r8d			/* 3 bytes */
	nop
	nop
	mov %r8d, %eax			/* 3 bytes: the page's last byte is the MOV's opcode */
cross:
	mov $0, %esi			/* BE imm32: the immediate is on the next page */
	add %esi, %edx
	mov %eax, (%rdi)
	dec %ecx
	jnz loop
	mov %edx, %eax
	out %eax, $0xe9
	out %al, $0xf4
	hlt
