/*
 * Compute guest for bench/p4-soft-mips.bench.ts: a 64 KiB ROM linked at 0xffff0000 that starts at
 * the reset vector (so QEMU can run it as -bios and the soft backend from the reset state),
 * switches to flat 32-bit protected mode and runs ITERATIONS of a 10-instruction loop mixing
 * ALU, rotate, multiply and memory operands. It then writes EAX (the checksum) to port 0xe9 and
 * exits through QEMU's isa-debug-exit port 0x501. The iteration count is the imm32 after the
 * marker bytes B9 (mov ecx, imm32) at label `count`, which the bench patches.
 */
	.code16
	.globl _start
_start:
	cli
	lgdtl %cs:(gdtr - _start)
	mov %cr0, %eax
	or $1, %al
	mov %eax, %cr0
	ljmpl $0x08, $pm32

	.code32
pm32:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov $0x80000, %esp
	.include "soft-bench-loop.inc"
	/* checksum to the debug console, then isa-debug-exit */
	mov $0xe9, %dx
	out %al, %dx
	shr $8, %eax
	out %al, %dx
	shr $8, %eax
	out %al, %dx
	shr $8, %eax
	out %al, %dx
	mov $0x501, %dx
	mov $0, %al
	out %al, %dx
	hlt
	jmp .

	.p2align 3
gdt:
	.quad 0
	.quad 0x00cf9b000000ffff
	.quad 0x00cf93000000ffff
gdtr:
	.word 23
	.long gdt

	/* reset vector at 0xfffffff0 */
	.org 0xfff0
	jmp _start
	.org 0x10000
