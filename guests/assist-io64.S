/*
 * assist-io64: IN/OUT of every size (DX and imm8 ports) and INS/OUTS with and without REP, both
 * DF directions, an FS override and a 32-bit address size, completed by cpu.assistIo. The test's
 * port handler logs OUTs and answers INs with an incrementing byte sequence from 0x10; the guest
 * stores what it got at rbx (BUF) so the test can check registers and memory. 64-bit, CPL0 (PVM does not honour IOPL 3 at CPL3).
 * The host sets rbx = BUF (RAM) and the FS base to 0x10.
 */
	.intel_syntax noprefix
	.code64
	.globl _start
_start:
	mov dx, 0x60
	mov al, 0x11
	out dx, al
	mov ax, 0x2233
	out dx, ax
	mov eax, 0x44556677
	out dx, eax
	out 0x61, al
	out 0x62, ax
	mov rax, -1
	in al, dx
	mov [rbx], rax
	in ax, 0x61
	mov [rbx+8], rax
	in eax, dx
	mov [rbx+16], rax
	/* OUTS */
	lea rsi, [rip+src]
	mov ecx, 5
	rep outsb
	mov [rbx+24], rsi
	mov [rbx+32], rcx
	outsw
	std
	lea rsi, [rip+src+12]
	mov ecx, 3
	rep outsd
	cld
	mov [rbx+40], rsi
	lea rsi, [rip+src-0x10]
	mov ecx, 2
	.byte 0x64, 0xf3, 0x6e		/* rep outsb fs:[rsi] */
	mov [rbx+48], rsi
	lea esi, [rip+src+1]
	mov ecx, 1
	addr32 rep outsb
	mov [rbx+56], rsi
	/* INS */
	lea rdi, [rbx+0x100]
	mov ecx, 4
	rep insw
	insb
	mov [rbx+64], rdi
	std
	lea rdi, [rbx+0x20c]
	mov ecx, 2
	rep insd
	cld
	mov [rbx+72], rdi
	mov [rbx+80], rcx
	out 0xef, al
	.balign 16
src:
	.byte 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf
