/*
 * Soft-CPU test guest (64-bit, CPL0, linked and loaded at 0x10000): LAR/LSL/VERW and the
 * MXCSR/FXSAVE/FXRSTOR group, whose values are architectural (this host's KVM cannot emulate
 * them at CPL0, so they are not in the conformance set). Results on port 0xe9; OUT 0xf4 ends.
 */
	.code64
	.globl _start
_start:
	mov $0xe9, %dx
	mov $0x30000, %rdi
	/* LAR/LSL of the kernel code and data selectors; ZF into the log */
	mov $0x08, %ecx
	lar %ecx, %eax
	out %eax, %dx
	mov $0x10, %ecx
	lsl %ecx, %eax
	out %eax, %dx
	mov $0x10, %ecx
	verw %cx
	setz %al
	movzbl %al, %eax
	out %eax, %dx
	mov $0x08, %ecx
	verw %cx			/* code: not writable */
	setz %al
	movzbl %al, %eax
	out %eax, %dx
	/* MXCSR through LDMXCSR/STMXCSR and FXSAVE/FXRSTOR */
	stmxcsr 32(%rdi)
	mov 32(%rdi), %eax
	out %eax, %dx
	movl $0x1fa0, 36(%rdi)
	fxsave 0x100(%rdi)
	ldmxcsr 36(%rdi)
	stmxcsr 40(%rdi)
	mov 40(%rdi), %eax
	out %eax, %dx
	fxrstor 0x100(%rdi)
	stmxcsr 44(%rdi)
	mov 44(%rdi), %eax
	out %eax, %dx
	movzwl 0x100(%rdi), %eax	/* FCW from the FXSAVE image */
	out %eax, %dx
	xor %eax, %eax
	mov $0xf4, %dx
	out %al, %dx
	hlt
