/*
 * Conformance guest (64-bit, linked and loaded at 0x10000): starts at CPL0, sets LSTAR/SFMASK,
 * enters CPL3 with SYSRETQ; the user loop makes 200 SYSCALLs whose handler (CPL0) accumulates
 * RAX into R12 and returns with SYSRETQ; RCX/R11 round trips are checked by the user code.
 * A final SYSCALL with RAX = -1 ends the run (OUT 0xf4 at CPL0).
 */
	.code64
	.globl _start
_start:
	mov $0xc0000082, %ecx		/* LSTAR */
	lea handler(%rip), %rax
	mov %rax, %rdx
	shr $32, %rdx
	wrmsr
	mov $0xc0000084, %ecx		/* SFMASK: clear IF, DF, TF */
	mov $0x700, %eax
	xor %edx, %edx
	wrmsr
	xor %r12, %r12
	lea user(%rip), %rcx
	mov $0x202, %r11d
	mov $0x70000, %rsp
	sysretq

handler:
	cmp $-1, %rax
	je done
	add %rax, %r12
	inc %r13
	sysretq
done:
	mov $0xe9, %dx
	mov %r12d, %eax
	out %eax, %dx
	mov %r13d, %eax
	out %eax, %dx
	mov $0xf4, %dx
	out %al, %dx
	hlt

user:
	mov $200, %ebx
	xor %r13, %r13
1:	mov %rbx, %rax
	imul %rbx, %rax
	std
	syscall
	/* RCX = the return RIP, R11 = RFLAGS (DF was set, cleared in the kernel by SFMASK) */
	lea 1b(%rip), %rdx
	sub %rdx, %rcx
	add %rcx, %r8
	add %r11, %r9
	dec %ebx
	jnz 1b
	cld
	mov $-1, %rax
	syscall
