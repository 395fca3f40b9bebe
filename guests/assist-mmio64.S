/*
 * assist-mmio64: every instruction form the memory assist emulates, in 64-bit mode, against the
 * data page at DATA. The test runs it twice: once with DATA mapped as RAM (the CPU executes it:
 * the reference) and once with DATA unmapped (every access exits and is emulated by assistMem
 * against a byte-array device). After each instruction REC appends rax..r14 and RFLAGS to the
 * log in RAM; the test compares the two logs and the final data page. Entry at 0, CPL3 (so
 * the final write to the unmapped DONE page ends the run). The host sets rbx = DATA, rbp = BUF, r15 = LOG.
 */
	.intel_syntax noprefix
	.code64
	.set DATA, 0x200000

	.macro REC
	mov [r15], rax
	mov [r15+8], rcx
	mov [r15+16], rdx
	mov [r15+24], rbx
	mov [r15+32], rsp
	mov [r15+40], rbp
	mov [r15+48], rsi
	mov [r15+56], rdi
	mov [r15+64], r8
	mov [r15+72], r9
	mov [r15+80], r10
	mov [r15+88], r11
	mov [r15+96], r12
	mov [r15+104], r13
	mov [r15+112], r14
	pushfq
	pop qword ptr [r15+120]
	lea r15, [r15+128]
	.endm

	.globl _start
_start:
	mov r8, 3
	/* MOV 88/89/8A/8B, several sizes and addressing forms */
	mov [rbx], al
	REC
	mov [rbx+1], cx
	REC
	mov [rbx+4], edx
	REC
	mov [rbx+8], rsi
	REC
	mov [rbx+r8*4+0x10], r9b
	REC
	mov ah, [rbx+2]
	REC
	mov r10w, [rbx+r8*2]
	REC
	mov r11d, [rbx+0x7f0]
	REC
	mov r12, [rbx+r8*8+0x100]
	REC
	mov dil, [rbx+5]
	REC
	/* MOV A0-A3 (64-bit moffs) */
	movabs al, [DATA+5]
	REC
	movabs eax, [DATA+0x10]
	REC
	movabs [DATA+0x20], rax
	REC
	movabs [DATA+0x29], ax
	REC
	/* MOV C6/C7 */
	mov byte ptr [rbx+0x30], 0x85
	REC
	mov word ptr [rbx+0x32], 0xbeef
	REC
	mov dword ptr [rbx+0x34], 0xdeadbeef
	REC
	mov qword ptr [rbx+0x38], -5
	REC
	/* MOVZX / MOVSX / MOVSXD */
	movzx eax, byte ptr [rbx+0x30]
	REC
	movzx r13d, word ptr [rbx+0x32]
	REC
	movzx r14, byte ptr [rbx+0x35]
	REC
	movsx eax, byte ptr [rbx+0x30]
	REC
	movsx rdx, word ptr [rbx+0x32]
	REC
	movsx si, byte ptr [rbx+0x30]
	REC
	movsxd rdi, dword ptr [rbx+0x34]
	REC

	/* ALU r/m forms, both directions, four sizes, with CF set and clear */
	.irp op, add, or, adc, sbb, and, sub, xor, cmp
	stc
	\op [rbx+0x40], al
	REC
	clc
	\op [rbx+0x42], cx
	REC
	stc
	\op [rbx+0x44], edx
	REC
	\op [rbx+0x48], rsi
	REC
	stc
	\op al, [rbx+0x50]
	REC
	\op r9w, [rbx+0x52]
	REC
	clc
	\op r10d, [rbx+0x54]
	REC
	stc
	\op r11, [rbx+r8*8+0x40]
	REC
	.endr

	/* Group 1 (80/81/83), all eight operations */
	.irp op, add, or, adc, sbb, and, sub, xor, cmp
	stc
	\op byte ptr [rbx+0x60], 0x81
	REC
	\op word ptr [rbx+0x62], 0x1234
	REC
	stc
	\op dword ptr [rbx+0x64], 0x80000001
	REC
	\op qword ptr [rbx+0x68], -3
	REC
	clc
	\op dword ptr [rbx+0x6c], 0x7f
	REC
	\op word ptr [rbx+0x6e], -2
	REC
	.endr

	/* TEST F6/F7 /0 and 84/85 */
	test byte ptr [rbx+0x40], 0x0f
	REC
	test word ptr [rbx+0x42], 0x8001
	REC
	test dword ptr [rbx+0x44], 0x80000000
	REC
	test qword ptr [rbx+0x48], -1
	REC
	test [rbx+0x48], rsi
	REC
	test [rbx+0x41], ah
	REC

	/* XCHG 86/87 */
	xchg [rbx+0x70], al
	REC
	xchg [rbx+0x72], cx
	REC
	xchg [rbx+0x74], edx
	REC
	xchg [rbx+0x78], rsi
	REC

	/* String instructions: MMIO<->RAM, REP/REPE/REPNE, DF both ways */
	cld
	lea rsi, [rbx+0x100]
	lea rdi, [rbp]
	mov ecx, 13
	rep movsb
	REC
	lea rsi, [rbp+0x40]
	lea rdi, [rbx+0x200]
	mov ecx, 5
	rep movsq
	REC
	std
	lea rsi, [rbx+0x2fc]
	lea rdi, [rbp+0x1fc]
	mov ecx, 7
	rep movsd
	REC
	cld
	movsw
	REC
	lea rdi, [rbx+0x300]
	mov ax, 0x5a5a
	mov ecx, 9
	rep stosw
	REC
	stosq
	REC
	std
	stosb
	REC
	cld
	lea rsi, [rbx+0x300]
	lodsb
	REC
	lodsd
	REC
	std
	lodsw
	REC
	cld
	lodsq
	REC
	mov ecx, 16
	lea rsi, [rbx+0x100]
	lea rdi, [rbp]
	repe cmpsb
	REC
	mov ecx, 20
	lea rsi, [rbx+0x100]
	lea rdi, [rbp+0x80]
	repne cmpsb
	REC
	lea rsi, [rbx+0x200]
	lea rdi, [rbp+0x40]
	cmpsq
	REC
	std
	mov ecx, 4
	lea rsi, [rbp+0x46]
	lea rdi, [rbx+0x206]
	repe cmpsw
	REC
	cld
	/* MMIO to MMIO */
	lea rsi, [rbx+0x10]
	lea rdi, [rbx+0x400]
	mov ecx, 3
	rep movsd
	REC
	/* 32-bit address size */
	lea esi, [rbx+0x20]
	lea edi, [rbp+0x300]
	mov ecx, 2
	addr32 rep movsd
	REC

	mov [0x3ff000], al		/* DONE_GPA: unmapped, ends the run */
