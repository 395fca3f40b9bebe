/*
 * calc: the smallest guest. It runs from the x86 reset state (real mode, CS base 0xFFFF0000,
 * IP 0xFFF0), so this file is one 4 KiB ROM page mapped at GPA 0xFFFFF000 with the code at
 * offset 0xFF0: the reset vector, physical address 0xFFFFFFF0.
 *
 * The host puts the operands in RAX and RBX (and 0 in RDX). Real mode reaches the 32-bit halves
 * with the operand-size prefix: EBX += EAX, and the carry goes to EDX, so the host reads the
 * full 33-bit sum as EDX:EBX. Then HLT.
 */
	.code16
	.text
	.org 0xff0
reset_vector:
	addl	%eax, %ebx
	adcl	$0, %edx
	hlt
	.org 0x1000
