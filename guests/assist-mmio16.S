/*
 * assist-mmio16: the memory assist in real mode (16-bit code, 16-bit addressing forms). Same
 * two-run scheme as assist-mmio64 (RAM reference vs MMIO + assistMem); kept short because
 * real-mode code is emulated slowly on KVM-PVM. Segments: CS = SS = 0 (the host also sets
 * ES = 0), DS = 0x8000 (the data page at linear 0x80000), log at ES:DI from 0x9000.
 */
	.code16
	.intel_syntax noprefix

	.macro REC
	mov es:[di], ax
	mov es:[di+2], cx
	mov es:[di+4], dx
	mov es:[di+6], bx
	mov es:[di+8], sp
	mov es:[di+10], bp
	mov es:[di+12], si
	pushf
	pop word ptr es:[di+14]
	lea di, [di+16]
	.endm

	.globl _start
_start:
	mov ax, 0x8000
	mov ds, ax
	xor ax, ax
	mov es, ax
	mov di, 0x9000
	mov ax, 0x1234
	mov bx, 0x10
	mov si, 4
	mov cx, 0x8081
	mov dx, 0xfffe
	mov [bx], al
	REC
	mov [bx+si+2], cx
	REC
	mov ax, [bx+si]
	REC
	mov dl, [si+0x20]
	REC
	mov ax, [0x12]
	REC
	mov [0x40], ax
	REC
	mov byte ptr [bx+0x30], 0x7f
	REC
	mov word ptr [bx+si+0x40], 0x8000
	REC
	mov eax, [bx]
	REC
	movzx cx, byte ptr [bx+0x30]
	REC
	movsx dx, byte ptr [bx+1]
	REC
	stc
	adc [bx+0x50], ax
	REC
	sub cx, [bx+si]
	REC
	cmp byte ptr [bx+0x30], 0x80
	REC
	and word ptr [bx+0x42], 0x7ff0
	REC
	sbb dword ptr [bx+0x44], -1
	REC
	xor [bx+0x46], dh
	REC
	test word ptr [bx+0x44], 0x0101
	REC
	xchg [bx+0x60], dx
	REC
	/* MOVS from the MMIO page (DS) to RAM (ES) and back, both directions */
	cld
	mov si, 0x100
	push di
	mov di, 0xa000
	mov cx, 6
	rep movsb
	pop di
	REC
	push es
	push ds
	pop es
	push di
	mov di, 0x200
	mov ax, 0x6b6b
	mov cx, 3
	rep stosw
	std
	mov si, 0x106
	mov di, 0x20e
	mov cx, 4
	rep movsw
	cld
	mov si, 0x200
	mov di, 0x100
	mov cx, 8
	repe cmpsb
	pop di
	pop es
	REC
	out 0xef, al
