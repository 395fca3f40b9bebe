/*
 * Conformance guest (64-bit, CPL0, linked and loaded at 0x10000): system instructions whose
 * results are architectural: SGDT/SIDT, STR/SLDT, SMSW/CLTS, MOV DR,
 * SWAPGS with KERNEL_GS_BASE, RDMSR/WRMSR of platform MSRs, a far call and far return through memory pointers. Each result goes to port 0xe9 (low 32
 * bits) and to memory at 0x30000; OUT 0xf4 ends the run. (LAR/LSL/VERW and the
 * FXSAVE/MXCSR group are in guests/soft-probes.S: this host's KVM cannot emulate them at CPL0.)
 */
	.code64
	.globl _start
	.set OUT, 0x30000
_start:
	mov $0xe9, %dx
	mov $OUT, %rdi
	sgdt (%rdi)
	movzwl (%rdi), %eax
	out %eax, %dx
	sidt 16(%rdi)
	movzwl 16(%rdi), %eax
	out %eax, %dx
	str %eax
	out %eax, %dx
	sldt %eax
	out %eax, %dx
	/* SMSW, CLTS */
	mov %cr0, %rax
	or $8, %eax			/* TS */
	mov %rax, %cr0
	smsw %eax
	out %eax, %dx
	clts
	smsw %eax
	out %eax, %dx
	/* debug registers */
	mov $0x12345678, %eax
	mov %rax, %dr0
	mov %dr0, %rbx
	mov %ebx, %eax
	out %eax, %dx
	mov %dr7, %rax
	out %eax, %dx
	/* SWAPGS with KERNEL_GS_BASE, read back through GS_BASE */
	mov $0xc0000102, %ecx
	mov $0x7000, %eax
	xor %edx, %edx
	wrmsr
	swapgs
	mov $0xc0000101, %ecx
	rdmsr
	mov $0xe9, %dx
	out %eax, %dx
	swapgs
	mov $0xc0000101, %ecx
	rdmsr
	mov $0xe9, %dx
	out %eax, %dx
	/* STAR / SFMASK round trip */
	mov $0xc0000084, %ecx
	mov $0x4700, %eax
	xor %edx, %edx
	wrmsr
	rdmsr
	mov $0xe9, %dx
	out %eax, %dx
	/* far call through m16:64 and far return */
	lea farfn(%rip), %rax
	mov %rax, 48(%rdi)
	movw $0x08, 56(%rdi)
	rex.w lcall *48(%rdi)
	out %eax, %dx
	xor %eax, %eax
	mov $0xf4, %dx
	out %al, %dx
	hlt

farfn:
	mov %cs, %eax
	shl $16, %eax
	or $0xfa, %eax
	lretq
