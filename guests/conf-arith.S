/*
 * Conformance guest (64-bit, CPL3): an arithmetic loop mixing ALU ops, shifts and
 * rotates (incl. RCL/RCR), multiply/divide, bit ops, flags (PUSHF), CMOVcc/SETcc, and
 * memory operands. Results go to memory at 0x20000; a HLT at CPL3 ends the run (#GP with no IDT -> triple fault -> 'shutdown'; this
 * host's KVM cannot enter guest CPL0 code from CPL3).
 * Heavy work stays at CPL3 so KVM runs it natively.
 */
	.code64
	.globl _start
_start:
	mov $0x20000, %rdi
	mov $0x0123456789abcdef, %rax
	mov $0xfedcba9876543210, %rbx
	mov $1000, %ecx
	xor %r8, %r8
	xor %r9, %r9
	mov $7, %r10
1:
	add %rbx, %rax
	adc $0x55, %r8
	sub %rcx, %rbx
	sbb %r9, %r8
	xor %rax, %r9
	rol $7, %rax
	rcr $3, %rbx
	rcl %cl, %r9
	shld $5, %rax, %r8
	shrd %cl, %rbx, %r9
	mov %rax, %rdx
	imul %rbx, %rdx
	lea 1(%rcx,%rcx,2), %r11
	mov %r11, %rsi
	xor %edx, %edx
	mov %rax, %r12
	mov %r12, %rax
	div %r10
	mov %rax, %r12
	mov %rdx, %r13
	mov %r12, %rax
	add %r13, %rax
	pushfq
	pop %r14
	and $0x8d5, %r14
	add %r14, %r8
	bsf %rax, %r15
	bsr %rbx, %rdx
	add %rdx, %r15
	popcnt %r9, %rdx
	add %rdx, %r15
	bswap %r15
	btc %rcx, %r9
	cmp %rax, %rbx
	cmovg %rax, %r13
	setb %dl
	movzbl %dl, %edx
	add %rdx, %r13
	xadd %r13, %r8
	mov %eax, %edx
	neg %edx
	sar $3, %edx
	movsxd %edx, %rdx
	add %rdx, %r9
	mov %r8, (%rdi)
	add (%rdi), %r9
	mov %r9, 8(%rdi)
	incq 16(%rdi)
	dec %ecx
	jnz 1b
	mov %rax, 24(%rdi)
	mov %rbx, 32(%rdi)
	mov %r15, 40(%rdi)
	hlt			/* #GP at CPL3 with no IDT: the run ends in a 'shutdown' exit */
