# Instruction forms for the decoder's length test against objdump (16-bit mode).
        .intel_syntax noprefix
        .code16
        .text
start:
        mov ax, 0x1234
        mov eax, 0x12345678
        mov al, [bx+si]
        mov ax, [bx+di+4]
        mov cx, [bp+si-2]
        mov dx, [bp+di+0x100]
        mov si, [si]
        mov di, [di+0x7f]
        mov bx, [bp]
        mov ax, [bx]
        mov ax, [0x1234]
        mov ax, word ptr es:[bx]
        mov eax, [eax+ebx*4+0x10]
        mov eax, dword ptr [esp]
        add word ptr [bx], 5
        add word ptr [bx], 0x1234
        add dword ptr [bx], 0x12345678
        add byte ptr [bp+2], 1
        push ax
        push eax
        push 0x12
        push 0x1234
        pushf
        popf
        pusha
        call start
        call 1f
1:      jmp start
        jmp 0xf000:0xfff0
        call 0x1000:0x20
        jmp dword ptr [bx]
        jmp word ptr [bx]
        ljmp [bx]
        ret
        retf
        iret
        int 0x10
        in al, 0x60
        out dx, al
        rep movsb
        rep stosw
        mov ds, ax
        mov cr0, eax
        lgdt [bx]
        lidt [0x1000]
        jcxz 1f
1:      loop 1b
        les ax, [bx]
        lea ax, [bp+si+2]
        movzx ax, byte ptr [bx]
        enter 4, 0
        leave
        cli
        hlt
        data32 call 1f
1:      nop
