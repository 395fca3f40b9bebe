/*
 * Conformance guest (64-bit, CPL3): string instructions with REP/REPE/REPNE in both
 * directions and all element sizes, over buffers at 0x20000..0x24000. a HLT at CPL3 ends the run (#GP with no IDT -> triple fault -> 'shutdown'; this
 * host's KVM cannot enter guest CPL0 code from CPL3).
 */
	.code64
	.globl _start
_start:
	cld
	/* fill 0x20000 with a pattern: stosb/stosw/stosd/stosq */
	mov $0x20000, %rdi
	mov $0x11, %al
	mov $64, %ecx
	rep stosb
	mov $0x2233, %ax
	mov $32, %ecx
	rep stosw
	mov $0x44556677, %eax
	mov $16, %ecx
	rep stosl
	mov $0x8899aabbccddeeff, %rax
	mov $8, %ecx
	rep stosq
	/* generate 1024 bytes of pseudo-random data at 0x21000 */
	mov $0x21000, %rdi
	mov $12345, %eax
	mov $256, %ecx
1:	imul $1103515245, %eax, %eax
	add $12345, %eax
	stosl
	loop 1b
	/* copy forward, then backward overlapping */
	mov $0x21000, %rsi
	mov $0x22000, %rdi
	mov $1024, %ecx
	rep movsb
	std
	mov $0x22000+1023, %rsi
	mov $0x22000+1023+7, %rdi
	mov $1000, %ecx
	rep movsb
	cld
	mov $0x21000, %rsi
	mov $0x23000, %rdi
	mov $128, %ecx
	rep movsq
	/* compare: repe cmpsb finds the first difference */
	mov $0x21000, %rsi
	mov $0x22000, %rdi
	mov $1024, %ecx
	repe cmpsb
	mov %rcx, %r8
	mov %rsi, %r9
	pushfq
	pop %r10
	/* scan for a byte: repne scasb */
	mov $0x21000, %rdi
	mov $1024, %ecx
	mov 0x21000+700, %al
	repne scasb
	mov %rcx, %r11
	mov %rdi, %r12
	/* lods sum */
	mov $0x21000, %rsi
	mov $256, %ecx
	xor %r13, %r13
2:	lodsl
	add %rax, %r13
	loop 2b
	/* cmpsw/cmpsd/cmpsq backwards */
	std
	mov $0x21000+1016, %rsi
	mov $0x23000+1016, %rdi
	mov $100, %ecx
	repe cmpsq
	mov %rcx, %r14
	pushfq
	pop %r15
	cld
	hlt			/* #GP at CPL3 with no IDT: the run ends in a 'shutdown' exit */
