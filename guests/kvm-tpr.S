/* kvm-tpr: raise CR8 to 9, lower it to 3 (KVM exits on lowering), then an OUT marker and HLT. */
	.code64
	.text
	.globl _start
_start:
	movq	$9, %rax
	movq	%rax, %cr8
	movq	$3, %rax
	movq	%rax, %cr8
	outb	%al, $0x10
	hlt
