/*
 * Soft-CPU test guest (64-bit, linked and loaded at 0x10000) for code patched a few bytes at a
 * time (test/soft/code-page.test.ts): the page at 0x11000 holds a function called every pass
 * (hot: it becomes a compiled block) and one whose immediate each pass rewrites before calling
 * it. The rewritten function must return each new immediate; the hot one, never written, keeps
 * its decoded and compiled code. EDX = 100 * 5 + (100 + 99 + ... + 1) = 5550, sent with OUT 0xe9
 * (then OUT 0xf4 ends the run).
 */
	.code64
	.globl _start
_start:
	xor %edx, %edx
	mov $100, %ecx
	lea patch+1(%rip), %rdi
pass:
	call hot
	mov %ecx, (%rdi)		/* the MOV's immediate: a write to the code page */
	call patched
	add %eax, %edx
	dec %ecx
	jnz pass
	mov %edx, %eax
	out %eax, $0xe9
	out %al, $0xf4
	hlt

	.balign 4096
hot:					/* 0x11000 */
	add $5, %edx
	ret

	.balign 64
patched:
patch:
	mov $0, %eax			/* B8 imm32 */
	ret
