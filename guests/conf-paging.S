/*
 * Conformance guest (64-bit, CPL0, linked and loaded at 0x10000): builds its own 4-level page
 * tables with 4 KiB pages at 0x50000 (identity map of the first 2 MiB plus a 2 MiB large page, plus an alias window at
 * 0x40000000), switches CR3, and checks: aliasing, a write to a read-only page (#PF, error
 * code 3), a not-present page (#PF 0/2) fixed by the handler and retried, a supervisor write to a
 * read-only page with CR0.WP clear, INVLPG after a remap, CR3 reload, and the accessed/dirty
 * bits the walk sets. Logs on port 0xe9; OUT 0xf4 ends the run.
 */
	.code64
#include "identity-pt.inc"
	.globl _start
	.set PML4, 0x50000
	.set PDPT, 0x51000
	.set PD, 0x52000
	.set PT0, 0x53000		/* identity 0..2 MiB */
	.set PD1, 0x54000		/* for 0x40000000 */
	.set PT1, 0x55000
	.set ALIAS, 0x40000000
_start:
	call idt_setup
	lidt idtr
	/* clear the table area */
	mov $PML4, %rdi
	xor %eax, %eax
	mov $(6 * 4096 / 8), %ecx
	rep stosq
	movq $(PDPT + 7), PML4
	movq $(PD + 7), PDPT
	movq $(PD1 + 7), PDPT + 8	/* 1 GiB..2 GiB */
	movq $(PT0 + 7), PD
	movq $(0x200000 + 0x87), PD + 8	/* 2..4 MiB identity, one large page (GDT/TSS live there) */
	movq $(PT1 + 7), PD1
	/* identity: 512 PTEs, P|RW|US; page 0x60000 kernel-only */
	identity_pt PT0, 7
	andq $~4, PT0 + 0x60 * 8
	/* alias: page 0 -> 0x61000 rw, page 1 -> 0x62000 read-only, page 2 not present (-> 0x63000 later) */
	movq $(0x61000 + 3), PT1
	movq $(0x62000 + 1), PT1 + 8
	mov $PML4, %rax
	mov %rax, %cr3
	mov $0xe9, %dx

	/* alias write, read back through the identity map */
	movl $0xabcd1234, ALIAS
	mov 0x61000, %eax
	out %eax, %dx
	/* write to the read-only alias: #PF(3) */
	lea 1f(%rip), %r15
	movl $1, ALIAS + 0x1000
1:	mov %cr2, %rax
	out %eax, %dx
	/* read of a not-present page: the handler resumes at `fix`, which maps it and retries */
	movl $0x77777777, 0x63010
	lea fix(%rip), %r15
retry:
	mov ALIAS + 0x2010, %eax	/* #PF(0) the first time */
	jmp mapped
fix:
	movq $(0x63000 + 3), PT1 + 16
	jmp retry
mapped:
	out %eax, %dx
	/* INVLPG: remap alias page 0 to 0x63000 */
	movq $(0x63000 + 3), PT1
	invlpg ALIAS
	mov ALIAS + 0x10, %eax
	out %eax, %dx
	/* CR3 reload after remapping back */
	movq $(0x61000 + 3), PT1
	mov %cr3, %rax
	mov %rax, %cr3
	mov ALIAS, %eax
	out %eax, %dx
	/* accessed/dirty bits of the alias PTEs */
	mov PT1, %rax
	and $0x60, %eax
	out %eax, %dx
	mov PT1 + 8, %rax
	and $0x60, %eax
	out %eax, %dx
	/* supervisor write to a read-only page with CR0.WP clear: allowed */
	mov %cr0, %rax
	and $~0x10000, %eax
	mov %rax, %cr0
	movl $0x5a5a5a5a, ALIAS + 0x1000
	mov 0x62000, %eax
	out %eax, %dx
	mov %cr0, %rax
	or $0x10000, %eax
	mov %rax, %cr0
	mov $0x10, %eax
	mov %eax, %ds
	xor %r15, %r15
	mov $0xf4, %dx
	out %al, %dx
	hlt

	.include "conf-idt.inc"
