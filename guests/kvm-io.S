/*
 * kvm-io: every form of port I/O, each a separate exit (64-bit, position-independent).
 * The test fills the IN data and checks what the guest kept: BL (IN al, imm8), R8D (IN eax, dx),
 * and buf (REP INSB). Ends with HLT.
 */
	.code64
	.text
	.globl _start
_start:
	movb	$0x41, %al
	outb	%al, $0x10		/* OUT imm8, 1 byte */
	outb	%al, $0x15		/* a second OUT right after: npc must not skip it */
	inb	$0x11, %al		/* IN imm8, 1 byte */
	movb	%al, %bl
	movw	$0x12, %dx
	movw	$0xbeef, %ax
	outw	%ax, %dx		/* OUT dx, 2 bytes */
	inl	%dx, %eax		/* IN dx, 4 bytes */
	movl	%eax, %r8d
	leaq	msg(%rip), %rsi
	movl	$4, %ecx
	movw	$0x13, %dx
	rep outsb			/* REP OUTSB, 4 bytes */
	leaq	buf(%rip), %rdi
	movl	$3, %ecx
	movw	$0x14, %dx
	rep insb			/* REP INSB, 3 bytes */
	hlt
msg:	.ascii	"tsvi"
buf:	.byte	0, 0, 0, 0
