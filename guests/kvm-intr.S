/*
 * kvm-intr: event injection. The main line stops at OUT sync points (ports 0x30-0x34) where
 * the test injects; handlers sit at fixed offsets so the test can build the IDT:
 *   +0x100 vector 0x40 (external interrupt): OUT 0x40
 *   +0x140 vector 13 (#GP, error code):      OUT 0x41 with the error code (4 bytes)
 *   +0x180 vector 2 (NMI):                   OUT 0x42
 *   +0x1c0 vector 6 (#UD, no error code):    OUT 0x43
 */
	.code64
	.text
	.globl _start
_start:
	cli
	outb	%al, $0x30	/* IF=0: an interrupt injected now must wait */
	sti
	nop			/* the STI shadow ends here: the window opens */
	outb	%al, $0x31	/* marker: the window has passed */
	outb	%al, $0x34	/* inject #GP with an error code */
	outb	%al, $0x32	/* inject #UD */
	outb	%al, $0x33	/* inject NMI */
	hlt

	.org	0x100
	movb	$0x40, %al
	outb	%al, $0x40
	iretq

	.org	0x140
	popq	%rax
	outl	%eax, $0x41
	iretq

	.org	0x180
	outb	%al, $0x42
	iretq

	.org	0x1c0
	outb	%al, $0x43
	iretq
