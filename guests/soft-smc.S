/*
 * Soft-CPU test guest (real mode, linked and loaded at 0x1000): self-modifying code. A loop
 * patches the immediate of an instruction it is about to execute (sum of 1..10 = 55 in BX only
 * if every patch is seen), then overwrites two NOPs with INC SI just ahead of execution.
 * OUT 0xf4 ends the run.
 */
	.code16
	.globl _start
_start:
	xor %ax, %ax
	mov %ax, %ds
	xor %bx, %bx
	xor %si, %si
	mov $10, %cx
1:	mov %cx, patch + 1
patch:	mov $0, %ax
	add %ax, %bx
	loop 1b
	movb $0x46, target
	movb $0x46, target + 1
target:	nop
	nop
	mov %bx, %ax
	out %ax, $0xf4
	hlt
