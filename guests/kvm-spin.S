/* kvm-spin: a CPL3 loop that never exits on its own (stop() tests). */
	.code64
	.text
	.globl _start
_start:
1:	jmp	1b
