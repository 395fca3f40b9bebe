/*
 * SSE guest (64-bit, position-independent; the test loads it at 0x10000): the string loops
 * glibc's SSE2/SSE4.2 code is built from, checked against byte-at-a-time references.
 *   strlen, SSE2:   aligned MOVDQA blocks, PCMPEQB with zero, PMOVMSKB, mask shifted by the
 *                   misalignment, BSF (glibc's strlen-sse2 shape)
 *   strlen, SSE4.2: PCMPISTRI "equal each" against an all-zero XMM0 (index of the first NUL)
 *   memchr, SSE2:   MOVD + PUNPCKLBW + PUNPCKLWD + PSHUFD broadcast, MOVDQU, PCMPEQB, PMOVMSKB, BSF
 * For every start offset 0..31 and length 0..95 in a 16-byte-aligned buffer at 0x40000. Reports with
 * OUT 0xe9: mismatches, cases, the sum of all strlen results, the number of memchr hits;
 * then OUT 0xf4.
 */
	.set BUF, 0x40000
	.code64
	.globl _start
_start:
	mov $BUF, %ebx			/* data on its own page: stores next to code would drop its decoded form */
	xor %r12d, %r12d		/* mismatches */
	xor %r13d, %r13d		/* sum of strlen results */
	xor %r14d, %r14d		/* cases */
	xor %r15d, %r15d		/* memchr hits */
	xor %r8d, %r8d			/* start offset */
offsets:
	xor %r9d, %r9d			/* length */
lengths:
	/* buf[i] = ((i * 7 + len) & 0x7f) | 1 for i < 192: no NUL */
	xor %ecx, %ecx
fill:
	imul $7, %ecx, %eax
	add %r9d, %eax
	and $0x7f, %eax
	or $1, %eax
	mov %al, (%rbx,%rcx)
	inc %ecx
	cmp $192, %ecx
	jb fill
	lea (%rbx,%r8), %rdi
	movb $0, (%rdi,%r9)		/* the terminator */

	call strlen_sse2
	cmp %r9, %rax
	setne %al
	movzbl %al, %eax
	add %rax, %r12
	lea (%rbx,%r8), %rdi
	call strlen_sse42
	add %rax, %r13
	cmp %r9, %rax
	setne %al
	movzbl %al, %eax
	add %rax, %r12

	/* memchr(s, 0x55, len): SSE against bytes */
	lea (%rbx,%r8), %rdi
	mov $0x55, %esi
	mov %r9, %rdx
	call memchr_bytes
	mov %rax, %r10
	lea (%rbx,%r8), %rdi
	mov $0x55, %esi
	mov %r9, %rdx
	call memchr_sse2
	cmp %r10, %rax
	setne %cl
	movzbl %cl, %ecx
	add %rcx, %r12
	test %rax, %rax
	setnz %cl
	add %rcx, %r15

	inc %r14
	inc %r9
	cmp $96, %r9
	jb lengths
	inc %r8
	cmp $32, %r8
	jb offsets

	mov $0xe9, %dx
	mov %r12d, %eax
	out %eax, %dx
	mov %r14d, %eax
	out %eax, %dx
	mov %r13d, %eax
	out %eax, %dx
	mov %r15d, %eax
	out %eax, %dx
	mov $0xf4, %dx
	out %al, %dx
	hlt

/* rdi = s -> rax = strlen(s). Aligned 16-byte reads never cross a page. */
strlen_sse2:
	mov %rdi, %rdx
	mov %rdi, %rcx
	and $-16, %rdi
	and $15, %ecx
	pxor %xmm0, %xmm0
	movdqa (%rdi), %xmm1
	pcmpeqb %xmm0, %xmm1
	pmovmskb %xmm1, %eax
	shr %cl, %eax
	test %eax, %eax
	jz 2f
	bsf %eax, %eax
	ret
2:	add $16, %rdi
	movdqa (%rdi), %xmm1
	pcmpeqb %xmm0, %xmm1
	pmovmskb %xmm1, %eax
	test %eax, %eax
	jz 2b
	bsf %eax, %eax
	add %rdi, %rax
	sub %rdx, %rax
	ret

/* rdi = s -> rax = strlen(s), with PCMPISTRI (ZF: a NUL in this block; ECX: its index). */
strlen_sse42:
	mov %rdi, %rdx
	pxor %xmm0, %xmm0
3:	pcmpistri $0x08, (%rdi), %xmm0
	jz 4f
	add $16, %rdi
	jmp 3b
4:	lea (%rdi,%rcx), %rax
	sub %rdx, %rax
	ret

/* rdi = s, esi = c, rdx = n -> rax = first address of c in s[0..n), or 0. */
memchr_sse2:
	movd %esi, %xmm1
	punpcklbw %xmm1, %xmm1
	punpcklwd %xmm1, %xmm1
	pshufd $0, %xmm1, %xmm1
5:	test %rdx, %rdx
	jz 8f
	movdqu (%rdi), %xmm2
	pcmpeqb %xmm1, %xmm2
	pmovmskb %xmm2, %ecx
	test %ecx, %ecx
	jz 6f
	bsf %ecx, %ecx
	cmp %rdx, %rcx
	jae 8f
	lea (%rdi,%rcx), %rax
	ret
6:	cmp $16, %rdx
	jbe 8f
	sub $16, %rdx
	add $16, %rdi
	jmp 5b
8:	xor %eax, %eax
	ret

memchr_bytes:
	xor %eax, %eax
9:	test %rdx, %rdx
	jz 10f
	cmpb %sil, (%rdi)
	je 11f
	inc %rdi
	dec %rdx
	jmp 9b
10:	ret
11:	mov %rdi, %rax
	ret
