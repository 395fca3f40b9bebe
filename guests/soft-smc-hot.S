/*
 * Soft-CPU test guest (real mode, 32-bit operands; linked and loaded at 0x1000) for compiled
 * blocks (test/soft/blocks.test.ts): (1) 30 passes of a 20-iteration loop on the next page,
 * whose ADD immediate hot code on this page patches after each pass (1, then 30, 29, ... 2):
 * EDX = 20 * (1 + 2 + ... + 30) = 9300 only if every patch is seen through compiled, linked
 * blocks; (2) a hot loop reads unmapped memory at ES:0 (GPA 0x90000) every pass, so memory
 * exits leave from inside a compiled block. OUT 0xf4 ends the run.
 */
	.code16
	.globl _start
_start:
	xor %ax, %ax
	mov %ax, %ds
	mov $0x9000, %ax
	mov %ax, %es
	xorl %edx, %edx
	movl $30, %edi
outer:
	movl $20, %ecx
	jmp inner
back:
	mov %di, %ax
	movb %al, addi + 3
	decl %edi
	jnz outer
	xorl %ebx, %ebx
	xorl %esi, %esi
	movl $40, %ecx
mmio:
	incl %ebx
	movl %es:0, %eax
	addl %eax, %esi
	decl %ecx
	jnz mmio
	mov %dx, %ax
	out %ax, $0xf4
	hlt

	.p2align 12
inner:
addi:	addl $1, %edx
	decl %ecx
	jnz inner
	jmp back
