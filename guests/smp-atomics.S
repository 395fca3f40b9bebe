/*
 * Run by several vCPUs at once, each in its own thread, on one shared soft machine
 * (test/soft/shared-machine.test.ts): RDI rounds of locked updates of counters at RSI, then HLT.
 * Every counter ends at vCPUs x rounds (the word and byte counters modulo 2^16 and 2^8) only if
 * no update is lost: LOCK INC/XADD/CMPXCHG (4 and 8 bytes), CMPXCHG8B, CMPXCHG16B, LOCK ADD of a
 * word, a byte and a qword, and a plain increment guarded by an XCHG spinlock released by a plain
 * store (the pattern of Linux's spinlocks, which a non-atomic XCHG breaks).
 */
	.code64
	.globl _start
_start:
round:
	lock incl (%rsi)
	movl $1, %eax
	lock xaddl %eax, 4(%rsi)
1:	movq 8(%rsi), %rax
	leaq 1(%rax), %rdx
	lock cmpxchgq %rdx, 8(%rsi)
	jne 1b
2:	movl $1, %eax
	xchgl %eax, 24(%rsi)
	testl %eax, %eax
	jnz 2b
	incq 16(%rsi)
	movl $0, 24(%rsi)
3:	movl 32(%rsi), %eax
	movl 36(%rsi), %edx
	movl %eax, %ebx
	movl %edx, %ecx
	addl $1, %ebx
	adcl $0, %ecx
	lock cmpxchg8b 32(%rsi)
	jne 3b
	lock addw $1, 40(%rsi)
	lock addb $1, 42(%rsi)
	lock addq $1, 48(%rsi)
4:	movq 64(%rsi), %rax
	movq 72(%rsi), %rdx
	leaq 1(%rax), %rbx
	leaq 1(%rdx), %rcx
	lock cmpxchg16b 64(%rsi)
	jne 4b
	decq %rdi
	jnz round
	hlt
