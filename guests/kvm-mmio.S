/*
 * kvm-mmio: reads and writes outside guest RAM (MMIO at 0x10000000) and a write to a
 * read-only mapping (0x300000). The test fills the read data; the guest keeps it in R9D.
 */
	.code64
	.text
	.globl _start
_start:
	movq	$0x10000000, %rbx
	movl	(%rbx), %eax		/* 4-byte MMIO read */
	movl	%eax, %r9d
	movw	$0x5678, 8(%rbx)	/* 2-byte MMIO write */
	movl	$0xcafe, 0x500000	/* write to a read-only page */
	hlt
