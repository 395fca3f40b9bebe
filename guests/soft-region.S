/*
 * Soft-CPU test guest (64-bit, linked and loaded at 0x10000) for regions, hot blocks of one page
 * run as one function (src/backends/soft/region.ts; test/soft/regions.test.ts). Three loops of
 * several blocks each, branching to each other:
 * 1. if/else over a table it rewrites, flags set in one block and read by a Jcc in another;
 * 2. loads through R10, which walks off the end of RAM (4 MiB) into unbacked memory: memory
 *    exits from a block of the region other than its entry, one through an inlined load (which
 *    hands the instruction back to the run loop) and one through an instruction's closure (ADC
 *    with a memory operand, which throws from inside the region);
 * 3. a block that patches the immediate of an ADD in the next block of the same loop every
 *    eighth pass: the ADD must see each patch at once.
 * Then OUT 0xe9 with EAX, EDX, R11D, R12D, R13D and OUT 0xf4.
 */
	.code64
	.globl _start
_start:
	xor %eax, %eax
	xor %edx, %edx
	mov $600, %ecx
	lea table(%rip), %rsi
	xor %r8d, %r8d
loop1:
	mov (%rsi,%r8,4), %r9d
	test $1, %r9d
	jz even
	add %r9d, %eax
	jmp next
even:
	sub %r9d, %edx
	cmp $100, %r9d
next:
	jb small			/* CF of the ADD (odd) or of the CMP (even) */
	add $3, %edx
small:
	lea 7(%rax,%r9), %r9d
	mov %r9d, (%rsi,%r8,4)
	inc %r8d
	and $15, %r8d
	dec %ecx
	jnz loop1

	mov $12, %ecx
	mov $0x3ffff0, %r10
	xor %r11d, %r11d
	xor %r12d, %r12d
loop2:
	add $1, %r11d
	cmp $6, %ecx
	ja load
	add $2, %r11d
load:
	mov (%r10), %ebx
	add %ebx, %r12d
	adc 4(%r10), %r12d
	add $4, %r10
	dec %ecx
	jnz loop2

	jmp part3
	.balign 4096			/* a page of its own: its patches drop this page's decoded code only */
part3:
	mov $50, %ecx
	lea patch+3(%rip), %rdi
	xor %r13d, %r13d
loop3:
	mov %ecx, %ebx
	and $7, %ebx
	jnz patch
	mov %ecx, (%rdi)
patch:
	.byte 0x41, 0x81, 0xc5		/* add $imm32, %r13d */
	.long 1
	dec %ecx
	jnz loop3

	out %eax, $0xe9
	mov %edx, %eax
	out %eax, $0xe9
	mov %r11d, %eax
	out %eax, $0xe9
	mov %r12d, %eax
	out %eax, $0xe9
	mov %r13d, %eax
	out %eax, $0xe9
	out %al, $0xf4
	hlt

	.balign 4096			/* another page: stores to it do not touch decoded code */
table:
	.long 5, 200, 17, 64, 99, 100, 101, 3, 250, 8, 77, 1000, 2, 31, 150, 66
