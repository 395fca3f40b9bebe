/*
 * Conformance guest (kernel mode, linked and loaded at 0x1000, entered in real mode at 0:0x1000):
 * real mode -> 32-bit protected mode (GDT, far jump) -> PAE + EFER.LME + paging -> 64-bit long
 * mode, writing a progress word at each stage, then a 64-bit far return into a compatibility-
 * mode (32-bit) segment and back. Port 0xe9 logs each stage; OUT 0xf4 ends the run.
 * Page tables (2 MiB identity) are built by the guest at 0x10000.
 */
	.code16
	.globl _start
_start:
	cli
	xor %ax, %ax
	mov %ax, %ds
	mov %ax, %ss
	mov $0x8000, %sp
	mov $1, %al
	out %al, $0xe9
	mov $0x3000, %ax
	mov %ax, %es
	movw $0x1111, %es:0x20          /* real-mode store at 0x30020 */
	lgdtl gdtr
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $0x08, $pm32

	.code32
pm32:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov $0x9000, %esp
	mov $2, %al
	out %al, $0xe9
	movl $0x22222222, 0x30004
	/* PML4[0] -> 0x11000, PDPT[0] -> 0x12000, PD[0] = 2 MiB page at 0 */
	mov $0x10000, %edi
	xor %eax, %eax
	mov $(0x3000 / 4), %ecx
	rep stosl
	movl $0x11003, 0x10000
	movl $0x12003, 0x11000
	movl $0x00000083, 0x12000
	mov $0x10000, %eax
	mov %eax, %cr3
	mov %cr4, %eax
	or $0x20, %eax
	mov %eax, %cr4
	mov $0xc0000080, %ecx
	rdmsr
	or $0x100, %eax
	wrmsr
	mov %cr0, %eax
	or $0x80000000, %eax
	mov %eax, %cr0
	ljmp $0x18, $lm64

	.code64
lm64:
	mov $3, %al
	out %al, $0xe9
	mov $0x30008, %rdi
	mov $0x3333333344444444, %rax
	mov %rax, (%rdi)
	mov $0xc0000080, %ecx
	rdmsr
	mov %eax, 0x30010           /* EFER with LMA */
	mov %cr0, %rax
	mov %eax, 0x30014
	/* far return to 32-bit compatibility mode code, which far-jumps back */
	mov %rsp, %rbp
	pushq $0x20
	pushq $compat32
	lretq
	.code32
compat32:
	mov $4, %al
	out %al, $0xe9
	movl $0x55555555, 0x30018
	ljmp $0x18, $back64
	.code64
back64:
	mov %rbp, %rsp
	mov $5, %al
	out %al, $0xe9
	mov $0x10, %eax
	mov %eax, %ds
	xor %eax, %eax
	mov $0xf4, %dx
	out %al, %dx
	hlt

	.p2align 3
gdt:
	.quad 0
	.quad 0x00cf9b000000ffff	/* 0x08: 32-bit code */
	.quad 0x00cf93000000ffff	/* 0x10: data */
	.quad 0x00af9b000000ffff	/* 0x18: 64-bit code */
	.quad 0x00cf9b000000ffff	/* 0x20: 32-bit code (compat) */
gdt_end:
gdtr:
	.word gdt_end - gdt - 1
	.long gdt
