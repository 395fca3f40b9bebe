/* kvm-cpuid: CPUID leaf 1 and leaf 0x40000010 (absent on KVM); results kept in R8-R11, R12. */
	.code64
	.text
	.globl _start
_start:
	movl	$1, %eax
	xorl	%ecx, %ecx
	cpuid
	movl	%eax, %r8d
	movl	%ebx, %r9d
	movl	%ecx, %r10d
	movl	%edx, %r11d
	movl	$0x40000010, %eax
	xorl	%ecx, %ecx
	cpuid
	movl	%ebx, %r12d
	hlt
