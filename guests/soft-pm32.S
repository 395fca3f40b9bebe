/*
 * Soft-CPU test guest (32-bit protected mode, flat, linked and loaded at 0x10000, entered at
 * CPL0 with paging off): builds a GDT (with ring-3 segments and a 32-bit TSS), an IDT with
 * 32-bit gates, 32-bit paging with one 4 MiB page (PSE) plus a 4 KiB page table for the low
 * 4 MiB, then far-returns to CPL3. There, INT 0x80 (DPL3 gate) logs the caller's CS and the
 * stack switch (ESP0 from the TSS); an access to a supervisor page raises #PF (error code 5,
 * CR2 logged); SYSENTER/SYSEXIT go to CPL0 and back (CS and ESP logged); a CLI raises #GP(0),
 * whose handler ends the run with OUT 0xf4.
 */
	.code32
	.globl _start
	.set GDT, 0x20000
	.set IDT, 0x21000
	.set TSS, 0x22000
	.set PD, 0x23000
	.set PT, 0x24000
_start:
	mov $0x9000, %esp
	/* GDT: null, k code 0x08, k data 0x10, u code 0x1b, u data 0x23, tss 0x28 */
	movl $0, GDT
	movl $0, GDT + 4
	movl $0x0000ffff, GDT + 0x08
	movl $0x00cf9b00, GDT + 0x0c
	movl $0x0000ffff, GDT + 0x10
	movl $0x00cf9300, GDT + 0x14
	movl $0x0000ffff, GDT + 0x18
	movl $0x00cffb00, GDT + 0x1c
	movl $0x0000ffff, GDT + 0x20
	movl $0x00cff300, GDT + 0x24
	movl $((TSS & 0xffff) << 16 | 0x67), GDT + 0x28
	movl $(((TSS >> 16) & 0xff) | 0x8900 | (TSS & 0xff000000)), GDT + 0x2c
	lgdt gdtr
	ljmp $0x08, $1f
1:	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	/* TSS: ESP0 = 0x9800, SS0 = 0x10, no I/O bitmap */
	movl $0x9800, TSS + 4
	movl $0x10, TSS + 8
	movw $0x68, TSS + 0x66
	mov $0x28, %ax
	ltr %ax
	/* IDT gates: 0x80 (DPL3 trap gate), 13 and 14 (interrupt gates) */
	mov $0x80, %eax
	mov $h80, %edx
	mov $0xef00, %ecx
	call gate
	mov $13, %eax
	mov $h13, %edx
	mov $0x8e00, %ecx
	call gate
	mov $14, %eax
	mov $h14, %edx
	mov $0x8e00, %ecx
	call gate
	lidt idtr
	/* paging: PDE0 -> PT (4 KiB identity, all user), PDE1 = 4 MiB page at 4 MiB (supervisor) */
	mov $PT, %edi
	mov $7, %eax
	mov $1024, %ecx
2:	mov %eax, (%edi)
	add $4, %edi
	add $0x1000, %eax
	loop 2b
	movl $(PT + 7), PD
	movl $(0x400000 + 0x83), PD + 4
	mov %cr4, %eax
	or $0x10, %eax			/* PSE */
	mov %eax, %cr4
	mov $PD, %eax
	mov %eax, %cr3
	mov %cr0, %eax
	or $0x80010000, %eax		/* PG | WP */
	mov %eax, %cr0
	/* SYSENTER target: CS 0x08 (SS 0x10), ESP 0x9400, EIP sysenter_entry */
	mov $0x174, %ecx
	mov $0x08, %eax
	xor %edx, %edx
	wrmsr
	mov $0x175, %ecx
	mov $0x9400, %eax
	wrmsr
	mov $0x176, %ecx
	mov $sysenter_entry, %eax
	wrmsr
	/* to CPL3 with a far return to an outer privilege level (pops SS:ESP too) */
	pushl $0x23
	pushl $0x70000
	pushl $0x1b
	pushl $user
	lret

user:
	mov $0x23, %ax			/* IRET to CPL3 nulled the DPL0 data segments */
	mov %ax, %ds
	mov $0x1234, %ebx
	int $0x80
	mov 0x400000, %eax		/* supervisor 4 MiB page: #PF(5) */
	mov $1f, %edx			/* SYSEXIT returns to EDX with ESP = ECX */
	mov %esp, %ecx
	sysenter
1:	cli				/* #GP(0) */
	jmp user

sysenter_entry:
	mov %cs, %eax
	out %eax, $0xe9
	mov %esp, %eax
	out %eax, $0xe9
	sysexit

/* gate(vector eax, handler edx, type ecx) */
gate:
	lea IDT(,%eax,8), %edi
	mov %dx, (%edi)
	movw $0x08, 2(%edi)
	mov %cx, 4(%edi)
	shr $16, %edx
	mov %dx, 6(%edi)
	ret

h80:	mov 4(%esp), %eax		/* caller CS */
	out %eax, $0xe9
	mov %esp, %eax			/* on the TSS stack */
	out %eax, $0xe9
	mov %ebx, %eax
	out %eax, $0xe9
	iret
h14:	mov (%esp), %eax		/* error code */
	out %eax, $0xe9
	mov %cr2, %eax
	out %eax, $0xe9
	addl $5, 4(%esp)		/* skip the 5-byte MOV */
	add $4, %esp
	iret
h13:	mov (%esp), %eax
	out %eax, $0xe9
	mov $0xf4, %dx
	out %al, %dx
	hlt

	.p2align 3
gdtr:	.word 0x2f
	.long GDT
idtr:	.word 0x7ff
	.long IDT
