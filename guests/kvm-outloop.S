/*
 * kvm-outloop: OUT to port 0x10 forever (position-independent 64-bit code). The P1 benchmark
 * runs it at CPL3 in long mode, in tsvisor and in the C reference alike, and counts exits.
 */
	.code64
	.text
	.globl _start
_start:
1:	outb	%al, $0x10
	jmp	1b
