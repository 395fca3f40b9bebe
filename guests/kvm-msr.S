/*
 * kvm-msr: RDMSR and WRMSR of an MSR KVM does not know (0x12345678): both exit to the caller;
 * then RDMSR of IA32_APIC_BASE (0x1b), which the backend leaves to the caller too.
 */
	.code64
	.text
	.globl _start
_start:
	movl	$0x12345678, %ecx
	rdmsr
	movl	%eax, %r8d
	movl	%edx, %r9d
	movl	$0x12345678, %ecx
	movl	$0xaabbccdd, %eax
	movl	$0x11223344, %edx
	wrmsr
	movl	$0x1b, %ecx
	rdmsr
	movl	%eax, %r10d
	hlt
