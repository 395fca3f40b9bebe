/*
 * assist-mmio-vec: x87, MMX and SSE instructions whose memory operand is the data page at DATA,
 * in 64-bit mode at CPL0. The test runs it twice: once with DATA mapped as RAM (the CPU runs
 * it: the reference) and once with DATA unmapped (every access exits and cpu.assistMem emulates
 * the instruction against a byte-array device; AssistFaults are injected). After each data
 * instruction REC appends rax..r12, r14, r15, RFLAGS and an FXSAVE64 image (x87/MMX/XMM/MXCSR)
 * to the log at r13; then the faults (alignment #GP, #UD/#NM from CR0.EM/TS and CR4.OSFXSR,
 * #XM and its #UD twin, #MF) are raised and logged by conf-idt.inc's handlers on port 0xE9,
 * MXCSR and FSW after them into the log. OUT to 0xEF ends the run. The host sets rbx = DATA,
 * r13 = LOG; the stack is at 0x80000, the IDT at 0x40000.
 */
	.intel_syntax noprefix
	.code64

	.macro REC
	mov [r13], rax
	mov [r13+8], rcx
	mov [r13+16], rdx
	mov [r13+24], rbx
	mov [r13+32], rsp
	mov [r13+40], rbp
	mov [r13+48], rsi
	mov [r13+56], rdi
	mov [r13+64], r8
	mov [r13+72], r9
	mov [r13+80], r10
	mov [r13+88], r11
	mov [r13+96], r12
	mov [r13+104], r14
	mov [r13+112], r15
	pushfq
	pop qword ptr [r13+120]
	fxsave64 [r13+128]
	lea r13, [r13+640]
	.endm

	.globl _start
_start:
	.att_syntax
	call idt_setup
	lidt idtr
	.intel_syntax noprefix
	fninit
	REC
	/* SSE/SSE2 moves, aligned and not */
	movdqu xmm0, [rbx+3]
	REC
	movdqu [rbx+0x21], xmm0
	REC
	movaps xmm1, [rbx+0x40]
	REC
	movaps [rbx+0x50], xmm1
	REC
	movdqa xmm2, [rbx+0x60]
	REC
	movupd [rbx+0x71], xmm2
	REC
	movq xmm3, [rbx+8]
	REC
	movq [rbx+0x88], xmm3
	REC
	movd xmm4, [rbx+0x10]
	REC
	movd [rbx+0x94], xmm4
	REC
	movlps xmm5, [rbx+0x98]
	REC
	movhps xmm5, [rbx+0xa0]
	REC
	movhps [rbx+0xa8], xmm5
	REC
	lddqu xmm7, [rbx+0xf1]
	REC
	/* SSE2 integer, SSSE3, SSE4.1, SSE4.2 */
	pcmpeqb xmm2, [rbx+0xb0]
	REC
	pxor xmm4, [rbx+0xc0]
	REC
	pshufd xmm6, [rbx+0xd0], 0x1b
	REC
	punpcklbw xmm6, [rbx+0xe0]
	REC
	pshufb xmm6, [rbx+0x150]
	REC
	pinsrd xmm1, dword ptr [rbx+0x160], 2
	REC
	pextrw word ptr [rbx+0x168], xmm1, 3
	REC
	extractps [rbx+0x16c], xmm1, 1
	REC
	pmovzxbw xmm2, [rbx+0x170]
	REC
	ptest xmm1, [rbx+0x150]
	REC
	pcmpistri xmm0, [rbx+0x130], 0x0c
	REC
	mov eax, 5
	mov edx, 9
	pcmpestrm xmm1, [rbx+0x140], 0x44
	REC
	/* MMX */
	movq mm0, [rbx+0x18]
	REC
	movq [rbx+0x100], mm0
	REC
	movd mm1, [rbx+0x20]
	REC
	movd [rbx+0x108], mm1
	REC
	paddd mm1, [rbx+0x28]
	REC
	pmaddwd mm0, [rbx+0x30]
	REC
	movq mm3, [rip+mask]
	lea rdi, [rbx+0x118]
	maskmovq mm0, mm3
	REC
	emms
	REC
	/* non-temporal and masked stores */
	clflush [rbx+0x40]		/* no access to flush: no exit, no device read */
	REC
	movnti [rbx+0x110], rax
	REC
	movnti [rbx+0x11c], ecx
	REC
	movdqu xmm3, [rip+mask]
	lea rdi, [rbx+0x120]
	maskmovdqu xmm0, xmm3
	REC
	/* SSE/SSE2/SSE3/SSE4.1 floating point (MXCSR flags accumulate in the FXSAVE image) */
	addps xmm0, [rbx+0x180]
	REC
	mulsd xmm1, [rbx+0x190]
	REC
	subss xmm2, [rbx+0x194]
	REC
	divpd xmm3, [rbx+0x1a0]
	REC
	sqrtps xmm4, [rbx+0x1b0]
	REC
	maxsd xmm5, [rbx+0x1c0]
	REC
	cvtsi2sd xmm6, qword ptr [rbx+0x1c8]
	REC
	cvttsd2si rax, [rbx+0x1d0]
	REC
	cvtss2sd xmm7, [rbx+0x1d8]
	REC
	cvtdq2ps xmm0, [rbx+0x1e0]
	REC
	comisd xmm1, [rbx+0x1f0]
	REC
	ucomiss xmm2, [rbx+0x1f8]
	REC
	cmpltps xmm3, [rbx+0x200]
	REC
	haddps xmm4, [rbx+0x210]
	REC
	roundsd xmm5, [rbx+0x220], 2
	REC
	dpps xmm6, [rbx+0x230], 0xff
	REC
	movddup xmm7, [rbx+0x238]
	REC
	/* x87: loads, arithmetic, compares, stores of every memory format */
	fld qword ptr [rbx+0x240]
	REC
	fld dword ptr [rbx+0x248]
	REC
	fild word ptr [rbx+0x24c]
	REC
	fild dword ptr [rbx+0x250]
	REC
	fild qword ptr [rbx+0x258]
	REC
	fld tbyte ptr [rbx+0x260]
	REC
	fadd qword ptr [rbx+0x270]
	REC
	fmul dword ptr [rbx+0x278]
	REC
	fisub word ptr [rbx+0x27c]
	REC
	fidivr dword ptr [rbx+0x280]
	REC
	fcom qword ptr [rbx+0x288]
	REC
	fcomp dword ptr [rbx+0x290]
	REC
	fst qword ptr [rbx+0x298]
	REC
	fstp dword ptr [rbx+0x2a0]
	REC
	fistp word ptr [rbx+0x2a4]
	REC
	fisttp dword ptr [rbx+0x2a8]
	REC
	fld1
	fistp qword ptr [rbx+0x2b0]
	REC
	fldpi
	fbstp tbyte ptr [rbx+0x2c0]
	REC
	fbld tbyte ptr [rbx+0x2c0]
	REC
	fstp tbyte ptr [rbx+0x2d0]
	REC
	fnstsw word ptr [rbx+0x2e0]
	REC
	fnstcw word ptr [rbx+0x2e2]
	REC
	mov word ptr [rbx+0x2e4], 0x0b7f
	fldcw word ptr [rbx+0x2e4]
	REC
	fld qword ptr [rbx+0x240]
	REC
	fnstenv [rbx+0x300]
	REC
	fldenv [rbx+0x300]
	REC
	fnsave [rbx+0x340]
	REC
	frstor [rbx+0x340]
	REC
	/* MXCSR and FXSAVE/FXRSTOR images */
	stmxcsr [rbx+0x3b0]
	REC
	mov dword ptr [rbx+0x3b4], 0x7f80
	ldmxcsr [rbx+0x3b4]
	REC
	fxsave64 [rbx+0x600]
	REC
	fxsave [rbx+0x800]
	REC
	fxrstor64 [rbx+0x600]
	REC
	ldmxcsr [rip+mxcsr_default]
	/* XSAVE areas: CR4.OSXSAVE, XCR0 = x87 | SSE; the header's first 24 bytes cleared first */
	mov rax, cr4
	or rax, 1 << 18
	mov cr4, rax
	xor ecx, ecx
	mov eax, 3
	xor edx, edx
	xsetbv
	mov qword ptr [rbx+0xc00], 0
	mov qword ptr [rbx+0xc08], 0
	mov qword ptr [rbx+0xc10], 0
	xsave64 [rbx+0xa00]
	REC
	/* (64-bit format: FCS/FDS, outside the API state, are not compared; see x87-platform.ts) */
	xsaveopt64 [rbx+0xc40]
	REC
	xrstor64 [rbx+0xa00]
	REC
	/*
	 * A loop: the same instructions run from hot (compiled) blocks, each MMIO access after a
	 * register instruction, so on the MMIO run the exit comes from the middle of a block.
	 */
	mov ecx, 40
2:	movdqu xmm0, [rbx+0x900]
	pxor xmm1, xmm0
	paddb xmm0, [rbx+0x910]
	inc eax
	movdqu [rbx+0x900], xmm0
	por xmm2, xmm1
	movq mm0, [rbx+0x920]
	psllq mm0, 1
	paddw mm0, [rbx+0x928]
	add edx, eax
	movq [rbx+0x920], mm0
	fld1
	fild dword ptr [rbx+0x930]
	fadd st(0), st(1)
	fiadd dword ptr [rbx+0x934]
	fxch st(1)
	fstp st(0)
	fistp dword ptr [rbx+0x930]
	dec ecx
	jnz 2b
	emms
	REC

	/* Faults: each handler logs vector, error code, CS on port 0xE9 and resumes at r15. */
	lea r15, [rip+1f]
	movaps xmm0, [rbx+8]		/* #GP(0): misaligned */
1:	lea r15, [rip+1f]
	movaps [rbx+0x408], xmm0	/* #GP(0): misaligned store */
1:	mov rax, cr0
	or rax, 4			/* CR0.EM */
	mov cr0, rax
	lea r15, [rip+1f]
	movdqu xmm0, [rbx]		/* #UD */
1:	lea r15, [rip+1f]
	movq mm0, [rbx]			/* #UD */
1:	lea r15, [rip+1f]
	fld qword ptr [rbx]		/* #NM */
1:	and rax, ~4
	or rax, 8			/* CR0.TS */
	mov cr0, rax
	lea r15, [rip+1f]
	movdqu xmm0, [rbx]		/* #NM */
1:	lea r15, [rip+1f]
	fld qword ptr [rbx]		/* #NM */
1:	clts
	mov rax, cr4
	and rax, ~0x200			/* CR4.OSFXSR */
	mov cr4, rax
	lea r15, [rip+1f]
	movdqu xmm0, [rbx]		/* #UD */
1:	or rax, 0x200
	mov cr4, rax
	/* ADDPS with a signalling NaN from MMIO, MXCSR.IM clear: the assist raises #XM (or #UD). */
	mov dword ptr [rbx+0x400], 0x7fa00001
	ldmxcsr [rip+mxcsr_unmask_im]
	lea r15, [rip+1f]
	addps xmm0, [rbx+0x400]		/* #XM */
1:	stmxcsr [r13]
	ldmxcsr [rip+mxcsr_unmask_im]
	and rax, ~0x400			/* CR4.OSXMMEXCPT */
	mov cr4, rax
	lea r15, [rip+1f]
	addps xmm0, [rbx+0x400]		/* #UD */
1:	stmxcsr [r13+4]
	or rax, 0x400
	mov cr4, rax
	ldmxcsr [rip+mxcsr_default]
	/* FLD of a double SNaN with FCW.IM clear: IE and ES pending; the next x87 instruction: #MF. */
	mov dword ptr [rbx+0x410], 1
	mov dword ptr [rbx+0x414], 0x7ff40000
	fninit
	fldcw [rip+fcw_unmask_im]
	fld qword ptr [rbx+0x410]
	fnstsw [r13+8]
	lea r15, [rip+1f]
	fld qword ptr [rbx+0x410]	/* #MF */
1:	fnstsw [r13+10]
	fninit
	lea r13, [r13+16]
	REC
	mov al, 1
	out 0xef, al

	.p2align 4
mask:
	.byte 0x80, 0, 0, 0x80, 0x80, 0, 0x7f, 0xff, 0, 0x80, 0, 0, 0, 0, 0xc0, 0x80
mxcsr_unmask_im:
	.long 0x1f00
mxcsr_default:
	.long 0x1f80
fcw_unmask_im:
	.word 0x037e

	.att_syntax
#include "conf-idt.inc"
