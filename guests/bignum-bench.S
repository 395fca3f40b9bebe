/*
 * P6 bench guest (bench/p6-bignum.bench.ts): a multi-precision multiply-and-subtract,
 * res[i] -= s1[i] * limb with the borrow carried along, written as generic C bignum code compiles
 * without a 64x64->128 multiply: each product from four IMULs of 32-bit halves, the middle carry by
 * CMP/CMOV, the low carry by SETB, the subtraction from memory with ADC. The Linux boot's crypto
 * self-tests spend about half of the boot to init in loops of this shape (mpihelp_submul_1 and
 * mpihelp_addmul_1 of the Debian cloud kernel).
 *
 * 64-bit code. Offset 0 (entry, the soft side): calls bignum_submul ITER times on the arrays at
 * 0x200000 (res) and 0x210000 (s1), 64 limbs, limb 0x923456789abcdef1, then writes the last borrow
 * (EAX) to port 0xe9 and halts. The bench patches ITER: the imm32 of `mov $1000, %r15d` at count.
 * bench/c/p6-bignum.c links the same function natively (System V ABI: rdi res, rsi s1, edx n,
 * rcx limb; returns the borrow in rax).
 */
	.code64
	.text
	.globl bignum_submul
entry:
count:
	mov $1000, %r15d
1:	mov $0x200000, %rdi
	mov $0x210000, %rsi
	mov $64, %edx
	movabs $0x923456789abcdef1, %rcx
	call bignum_submul
	dec %r15d
	jnz 1b
	mov $0xe9, %dx
	out %eax, %dx
	hlt

bignum_submul:
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	mov %ecx, %r8d			/* limb low half */
	mov %rcx, %r9
	shr $32, %r9			/* limb high half */
	movabs $0x100000000, %r15
	xor %r10d, %r10d		/* borrow */
	movslq %edx, %r11
	neg %r11			/* index from -n up to 0 */
	lea (%rdi,%rdx,8), %rdi
	lea (%rsi,%rdx,8), %rsi
2:	mov (%rsi,%r11,8), %rax
	mov %eax, %ebx			/* x low half */
	mov %rax, %rcx
	shr $32, %rcx			/* x high half */
	mov %rbx, %r12
	imul %r8, %r12			/* lo * lo */
	mov %rcx, %r13
	imul %r8, %r13			/* hi * lo */
	imul %r9, %rbx			/* lo * hi */
	imul %r9, %rcx			/* hi * hi */
	mov %r12, %r14
	shr $32, %r14
	add %r13, %rbx			/* middle = lo*hi + hi*lo (+ carry of lo*lo) */
	add %r14, %rbx
	lea (%rcx,%r15), %r14
	cmp %r13, %rbx
	cmovb %r14, %rcx		/* the middle sum wrapped: 2^32 more in the high part */
	mov %rbx, %r13
	shl $32, %r13
	mov %r12d, %r12d
	add %r13, %r12			/* product low */
	shr $32, %rbx
	add %rbx, %rcx			/* product high */
	add %r10, %r12
	setb %al
	movzbl %al, %eax
	add %rax, %rcx			/* carry of the borrow added in */
	mov (%rdi,%r11,8), %r13
	sub %r12, %r13
	adc $0, %rcx
	mov %r13, (%rdi,%r11,8)
	mov %rcx, %r10
	add $1, %r11
	jnz 2b
	mov %r10, %rax
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	ret
	/* No executable stack when linked natively (bench/c/p6-bignum.c). */
	.section .note.GNU-stack,"",@progbits
