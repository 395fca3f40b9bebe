/*
 * smallkern entry and trap stubs.
 *
 * toyvirt enters `start` in flat 32-bit protected mode with paging off. We build an identity map
 * in the free pages the monitor leaves after the image (__kernel_end), switch to long mode and
 * call main(). The trap stubs give every vector one frame layout (struct trapframe in smallkern.h).
 */
#define CR0_PE		0x00000001
#define CR0_MP		0x00000002
#define CR0_ET		0x00000010
#define CR0_NE		0x00000020
#define CR0_PG		0x80000000
#define CR4_PAE		0x00000020
#define MSR_EFER	0xc0000080
#define EFER_LME	0x00000100
#define PG_V		0x001
#define PG_RW		0x002
#define PG_WT		0x008
#define PG_NC		0x010
#define PG_PS		0x080
#define LAPIC_BASE	0xfee00000

/* Page-table pages, laid out from __kernel_end. */
#define PML4		(__kernel_end)
#define PDPT		(__kernel_end + 0x1000)
#define PD_LOW		(__kernel_end + 0x2000)	/* 0 .. 1 GiB, 2 MiB pages */
#define PD_HIGH		(__kernel_end + 0x3000)	/* 3 .. 4 GiB, for the LAPIC page */
#define PT_PAGES	4

	.section .text.boot, "ax"
	.code32
	.globl	start
start:
	cli
	movl	$boot_stack_top, %esp

	/* Zero the page-table pages. */
	movl	$PML4, %edi
	xorl	%eax, %eax
	movl	$(PT_PAGES * 4096 / 4), %ecx
	cld
	rep stosl

	movl	$(PDPT + PG_V + PG_RW), PML4
	movl	$(PD_LOW + PG_V + PG_RW), PDPT
	movl	$(PD_HIGH + PG_V + PG_RW), PDPT + 3 * 8

	/* Identity-map the first GiB with 2 MiB pages. */
	movl	$PD_LOW, %edi
	movl	$(PG_V + PG_RW + PG_PS), %eax
	movl	$512, %ecx
1:	movl	%eax, (%edi)
	addl	$0x200000, %eax
	addl	$8, %edi
	loop	1b

	/* The LAPIC's 2 MiB page, uncached (its registers are MMIO). */
	movl	$(LAPIC_BASE + PG_V + PG_RW + PG_PS + PG_WT + PG_NC), PD_HIGH + ((LAPIC_BASE >> 21) & 511) * 8

	/* PAE, CR3, EFER.LME, then paging: the CPU is in long mode (compatibility submode). */
	movl	%cr4, %eax
	orl	$CR4_PAE, %eax
	movl	%eax, %cr4
	movl	$PML4, %eax
	movl	%eax, %cr3
	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$EFER_LME, %eax
	wrmsr
	movl	$(CR0_PG + CR0_NE + CR0_ET + CR0_MP + CR0_PE), %eax
	movl	%eax, %cr0

	lgdt	boot_gdtr
	ljmp	$0x08, $start64

	.code64
start64:
	movw	$0x10, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	xorw	%ax, %ax
	movw	%ax, %fs
	movw	%ax, %gs
	movq	$boot_stack_top, %rsp
	call	main
2:	cli
	hlt
	jmp	2b

/* -------------------------------------------------------------------------- */

/* Vectors for which the CPU pushes an error code; the others get a 0 pushed by the stub. */
.macro	TRAP_NOERR vec
	.p2align 4
trap\vec:
	pushq	$0
	pushq	$\vec
	jmp	trap_common
.endm
.macro	TRAP_ERR vec
	.p2align 4
trap\vec:
	pushq	$\vec
	jmp	trap_common
.endm

	.text
TRAP_NOERR 0
TRAP_NOERR 1
TRAP_NOERR 2
TRAP_NOERR 3
TRAP_NOERR 4
TRAP_NOERR 5
TRAP_NOERR 6
TRAP_NOERR 7
TRAP_ERR 8
TRAP_NOERR 9
TRAP_ERR 10
TRAP_ERR 11
TRAP_ERR 12
TRAP_ERR 13
TRAP_ERR 14
TRAP_NOERR 15
TRAP_NOERR 16
TRAP_ERR 17
TRAP_NOERR 18
TRAP_NOERR 19
TRAP_NOERR 20
TRAP_ERR 21
TRAP_NOERR 22
TRAP_NOERR 23
TRAP_NOERR 24
TRAP_NOERR 25
TRAP_NOERR 26
TRAP_NOERR 27
TRAP_NOERR 28
TRAP_ERR 29
TRAP_ERR 30
TRAP_NOERR 31
TRAP_NOERR 200

/* Saves the GPRs in struct trapframe order, calls trap(frame), restores and returns. */
trap_common:
	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%rbp
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, %rdi
	cld
	call	trap
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rbp
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rbx
	popq	%rax
	addq	$16, %rsp	/* vector and error code */
	iretq

	.section .rodata
	.p2align 3
	.globl	trap_entries
trap_entries:
	.irp	vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad	trap\vec
	.endr
	.globl	trap_entry_200
trap_entry_200:
	.quad	trap200

/* The GDT used only for the jump to 64-bit code; main() installs the real one with a TSS. */
	.data
	.p2align 3
boot_gdt:
	.quad	0
	.quad	0x00209a0000000000	/* 0x08: kernel code, 64-bit */
	.quad	0x0000920000000000	/* 0x10: kernel data */
boot_gdtr:
	.word	boot_gdtr - boot_gdt - 1
	.long	boot_gdt

	.bss
	.p2align 12
boot_stack:
	.space	16384
boot_stack_top:
