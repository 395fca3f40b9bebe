/*
 * assist-bench: an endless stream of MMIO writes (mov [rbx], eax with rbx on an unmapped page),
 * one memory exit per iteration, for bench/p3-assist (64-bit, CPL3: native on KVM-PVM).
 */
	.intel_syntax noprefix
	.code64
	.globl _start
_start:
	mov [rbx], eax
	inc eax
	jmp _start
