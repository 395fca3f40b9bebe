/*
 * Soft CPU test guest (test/soft/jump-cache.test.ts): the same linear code addresses, reached by
 * an indirect CALL that goes to three of them in turn (more targets than a block's two links
 * hold, so most steps go through fetchBlock and its jump cache), while what is behind them
 * changes inside one run: the page table entry rewritten with INVLPG, then back with a CR3
 * reload, then the code itself written. Each phase makes 300 calls and sums what they return;
 * the four sums go to port 0xe9 at the end (no exit in between: a new run would reset every
 * cache anyway), then OUT 0xf4.
 *
 * Own tables at 0x50000: 0..2 MiB identity in 4 KiB pages, 2..4 MiB identity (one large page:
 * the GDT and IDT of the test's long-mode state live there), and at 0x40000000 a window whose
 * page 0 maps 0x61000 (functions returning 0xA0 0xA1 0xA2) or 0x62000 (0xB0 0xB1 0xB2).
 */
	.code64
#include "identity-pt.inc"
	.globl _start
	.set PML4, 0x50000
	.set PDPT, 0x51000
	.set PD, 0x52000
	.set PT0, 0x53000
	.set PD1, 0x54000
	.set PT1, 0x55000
	.set ALIAS, 0x40000000
	.set PAGE_A, 0x61000
	.set PAGE_B, 0x62000
_start:
	mov $PML4, %rdi
	xor %eax, %eax
	mov $(6 * 4096 / 8), %ecx
	rep stosq
	movq $(PDPT + 3), PML4
	movq $(PD + 3), PDPT
	movq $(PD1 + 3), PDPT + 8
	movq $(PT0 + 3), PD
	movq $(0x200000 + 0x83), PD + 8
	movq $(PT1 + 3), PD1
	identity_pt PT0, 3
	/* the two versions of the window's code */
	mov $funcs_a, %esi
	mov $PAGE_A, %edi
	mov $48, %ecx
	rep movsb
	mov $funcs_b, %esi
	mov $PAGE_B, %edi
	mov $48, %ecx
	rep movsb
	movq $(PAGE_A + 3), PT1
	mov $PML4, %rax
	mov %rax, %cr3

	call phase
	mov %r12d, %r8d
	/* the window to page B: PTE and INVLPG */
	movq $(PAGE_B + 3), PT1
	invlpg ALIAS
	call phase
	mov %r12d, %r9d
	/* back to page A: PTE and a CR3 reload */
	movq $(PAGE_A + 3), PT1
	mov %cr3, %rax
	mov %rax, %cr3
	call phase
	mov %r12d, %r10d
	/* the code itself: function 0 of page A returns 0xC0 (its imm32, written through the identity map) */
	movl $0xc0, PAGE_A + 1
	call phase
	mov %r12d, %r11d

	mov $0xe9, %dx
	mov %r8d, %eax
	out %eax, %dx
	mov %r9d, %eax
	out %eax, %dx
	mov %r10d, %eax
	out %eax, %dx
	mov %r11d, %eax
	out %eax, %dx
	mov $0xf4, %dx
	out %al, %dx
	hlt

/* 300 indirect calls to ALIAS + 0, 0x10, 0x20 in turn; the sum of their results in r12d. */
phase:
	xor %r12d, %r12d
	xor %esi, %esi
	mov $300, %ecx
1:	lea ALIAS(%rsi), %rbx
	call *%rbx
	add %eax, %r12d
	add $16, %esi
	cmp $48, %esi
	jne 2f
	xor %esi, %esi
2:	dec %ecx
	jnz 1b
	ret

	.balign 16
funcs_a:
	mov $0xa0, %eax
	ret
	.balign 16
	mov $0xa1, %eax
	ret
	.balign 16
	mov $0xa2, %eax
	ret
	.balign 16
funcs_b:
	mov $0xb0, %eax
	ret
	.balign 16
	mov $0xb1, %eax
	ret
	.balign 16
	mov $0xb2, %eax
	ret
	.balign 16
