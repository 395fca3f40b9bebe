/*
 * Soft-CPU test guest (64-bit, linked and loaded at 0x10000) for compiled blocks whose inlined
 * stores patch code (test/soft/blocks.test.ts): one hot block stores EAX through RBX, which
 * points at a scratch word on another page except every tenth pass, when it points at the
 * immediate of the ADD that follows the store in the same block. The ADD must see each patch at
 * once: EDX = 10 * (10 + 20 + ... + 90) + 100 = 4600 over 100 passes (EAX = 1..100), sent with
 * OUT 0xf4.
 */
	.code64
	.globl _start
_start:
	xor %edx, %edx
	mov $1, %eax
	mov $100, %ecx
	lea patch+2(%rip), %rdi
	mov $10, %r8d
	mov $10, %r9d
loop:
	lea scratch(%rip), %rbx
	dec %r8d
	cmovz %rdi, %rbx		/* every tenth pass: the ADD's immediate */
	mov %eax, (%rbx)
patch:
	.byte 0x81, 0xc2		/* add $imm32, %edx */
	.long 0
	test %r8d, %r8d
	cmovz %r9d, %r8d
	inc %eax
	dec %ecx
	jnz loop
	mov %edx, %eax
	out %eax, $0xf4
	hlt

	.balign 4096
scratch:
	.long 0
