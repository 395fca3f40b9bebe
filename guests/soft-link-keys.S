/*
 * Soft CPU test guest (test/soft/link-keys.test.ts): a block's successor links (cpu.ts
 * nextBlock) keep the RIP each successor started at as two small integers, exact for every
 * canonical RIP. Two indirect CALL sites each alternate between two targets that the keys must
 * tell apart: RIPs one byte apart at a kernel address (0xffffffff81000000, whose low half is no
 * small integer), and the same low half under two high halves (0x0000000081000000, the low
 * half of the address space). Each site makes 200 calls and sums what they return; the sums go
 * to port 0xe9, then OUT 0xf4.
 *
 * At each target page, bytes B0 xx C3 C3: from +0, MOV AL,xx; RET; from +1, MOV AL,0xC3; RET.
 * The kernel page holds xx = 0xB0, the low one xx = 0xD0.
 *
 * Own tables at 0x50000: 0..2 MiB identity in 4 KiB pages, 2..4 MiB identity (one large page:
 * the GDT and IDT of the test's long-mode state live there), 0xffffffff81000000 -> 0x63000,
 * 0x0000000081000000 -> 0x64000.
 */
	.code64
#include "identity-pt.inc"
	.globl _start
	.set PML4, 0x50000
	.set PDPT, 0x51000
	.set PD, 0x52000
	.set PT0, 0x53000
	.set PDPT_H, 0x54000
	.set PD_H, 0x55000
	.set PT_H, 0x56000
	.set PD_L, 0x57000
	.set PT_L, 0x58000
	.set PAGE_H, 0x63000
	.set PAGE_L, 0x64000
_start:
	mov $PML4, %rdi
	xor %eax, %eax
	mov $(9 * 4096 / 8), %ecx
	rep stosq
	movq $(PDPT + 3), PML4
	movq $(PDPT_H + 3), PML4 + 511 * 8
	movq $(PD + 3), PDPT
	movq $(PD_L + 3), PDPT + 2 * 8
	movq $(PD_H + 3), PDPT_H + 510 * 8
	movq $(PT0 + 3), PD
	movq $(0x200000 + 0x83), PD + 8
	movq $(PT_H + 3), PD_H + 8 * 8
	movq $(PT_L + 3), PD_L + 8 * 8
	movq $(PAGE_H + 3), PT_H
	movq $(PAGE_L + 3), PT_L
	identity_pt PT0, 3
	movl $0xc3c3b0b0, PAGE_H
	movl $0xc3c3d0b0, PAGE_L
	mov $PML4, %rax
	mov %rax, %cr3

	/* site 1: the kernel address and the byte after it */
	movabs $0xffffffff81000000, %r8
	lea 1(%r8), %r9
	call phase
	mov %r12d, %r10d
	/* site 2: the same low half, kernel and low-half address */
	movabs $0x0000000081000000, %r9
	call phase
	mov %r12d, %r11d

	mov $0xe9, %dx
	mov %r10d, %eax
	out %eax, %dx
	mov %r11d, %eax
	out %eax, %dx
	mov $0xf4, %dx
	out %al, %dx
	hlt

/*
 * 200 calls through one indirect CALL, to r8 and r9 in turn (CMOV picks: one block whose two
 * successors are each found through a link); the sum of the bytes they return (AL) in r12d.
 */
phase:
	xor %r12d, %r12d
	mov $200, %ecx
1:	mov %r8, %rbx
	test $1, %cl
	cmovnz %r9, %rbx
	xor %eax, %eax
	call *%rbx
	add %eax, %r12d
	dec %ecx
	jnz 1b
	ret
