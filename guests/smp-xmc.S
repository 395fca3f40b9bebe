/*
 * Cross-modifying code between two vCPUs in two threads (test/soft/shared-machine.test.ts).
 * The waiter (entry 0) spins on an immediate in its own code until it reads 1, then HLTs with
 * RBX = how many times it looped (also stored at 0x80000 each round). The patcher (entry at
 * `patcher`, another page) waits until the waiter has looped 10,000 times (so the loop is
 * decoded and compiled), writes that immediate and HLTs. The waiter sees the new byte only if the patcher's write reaches its
 * decoded code (no serializing instruction in the loop: the soft CPU re-checks every slice).
 */
	.code64
	.globl _start
_start:
	xorl %ebx, %ebx
spin:
	incq %rbx
	movq %rbx, 0x80000
	movl $0, %eax
	.globl imm
imm = . - 4
	testl %eax, %eax
	jz spin
	hlt

	.balign 4096
	.globl patcher
patcher:
	cmpq $10000, 0x80000
	jb patcher
	movb $1, imm
	hlt
