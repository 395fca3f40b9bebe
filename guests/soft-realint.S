/*
 * Soft-CPU test guest (real mode, linked and loaded at 0x1000): interrupts through the IVT.
 * INT 0x21 (handler increments BX), #DE from DIV by zero (handler skips the 2-byte DIV),
 * then STI; HLT waits for an injected interrupt 0x30, whose handler logs 0x30 on port 0xe9.
 * Port 0xe9 logs progress (0x11 before the HLT, 0x22 after); OUT 0xf4 ends the run.
 */
	.code16
	.globl _start
_start:
	cli
	xor %ax, %ax
	mov %ax, %ds
	mov %ax, %ss
	mov $0x8000, %sp
	movw $h21, 0x21 * 4
	movw $0, 0x21 * 4 + 2
	movw $h0, 0
	movw $0, 2
	movw $h30, 0x30 * 4
	movw $0, 0x30 * 4 + 2
	xor %bx, %bx
	int $0x21
	xor %dx, %dx
	mov $1, %ax
	xor %cx, %cx
	div %cx
	mov $0x11, %al
	out %al, $0xe9
	sti
	hlt
	mov $0x22, %al
	out %al, $0xe9
	out %al, $0xf4
	hlt
h21:	inc %bx
	iret
h0:	push %bp
	mov %sp, %bp
	addw $2, 2(%bp)
	pop %bp
	iret
h30:	push %ax
	mov $0x30, %al
	out %al, $0xe9
	pop %ax
	iret
