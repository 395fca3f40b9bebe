/*
 * Conformance guest (64-bit, CPL0, linked and loaded at 0x10000): exceptions and interrupts
 * through a 64-bit IDT, all raised at CPL0 (this host's KVM cannot run guest CPL3 -> CPL0
 * transitions; test/soft covers those): #DE, #UD, #GP(0) for a non-canonical address, #GP(sel)
 * for a bad segment load, #PF (read and write, CR2 logged), #NP(sel) for a not-present segment. Each handler logs vector, error
 * code and saved CS to port 0xe9; OUT 0xf4 ends the run.
 */
	.code64
	.globl _start
_start:
	call idt_setup
	lidt idtr
	mov $0xe9, %dx

	lea 1f(%rip), %r15
	xor %ecx, %ecx
	mov $5, %eax
	div %ecx			/* #DE */
1:	lea 1f(%rip), %r15
	ud2				/* #UD */
1:	lea 1f(%rip), %r15
	mov $0x8000000000000000, %rax
	mov (%rax), %rbx		/* #GP(0): non-canonical */
1:	lea 1f(%rip), %r15
	mov $0x1234, %ax
	mov %ax, %ds			/* #GP(0x1230): beyond the GDT limit */
1:	lea 1f(%rip), %r15
	mov $0x10000000, %rax
	mov (%rax), %rbx		/* #PF read, not present */
1:	mov %cr2, %rax
	out %eax, %dx
	lea 1f(%rip), %r15
	mov $0x10000008, %rax
	movl $1, (%rax)			/* #PF write, not present */
1:	mov %cr2, %rax
	out %eax, %dx
	/* #NP(0x38): a not-present data descriptor in the free GDT slot 7 */
	sgdt gdtr_copy
	mov gdtr_copy + 2, %rax
	mov $0x00cf13000000ffff, %rcx
	mov %rcx, 0x38(%rax)
	lea 2f(%rip), %r15
	mov $0x38, %ax
	mov %ax, %ds
2:	mov %rsp, %rax
	out %eax, %dx
	mov $0x10, %eax
	mov %eax, %ds
	xor %eax, %eax
	xor %r15, %r15
	mov $0xf4, %dx
	out %al, %dx
	hlt

gdtr_copy:
	.word 0
	.quad 0
	.include "conf-idt.inc"
