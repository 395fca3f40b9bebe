/*
 * kvm-fault: ways to end badly. Entry 0: UD2 with an empty IDT (triple fault -> shutdown).
 * Entry 0x10: jump to a GPA with no RAM (KVM cannot fetch the instruction -> internal error).
 */
	.code64
	.text
	.globl _start
_start:
	ud2
	.org	0x10
	movq	$0x10000000, %rax
	jmp	*%rax
