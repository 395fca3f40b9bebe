# Instruction forms for the decoder's length test against objdump (32-bit mode).
        .intel_syntax noprefix
        .code32
        .text
start:
        add al, 1
        add eax, 0x12345678
        add ax, 0x1234
        add dword ptr [ebx+ecx*4+8], 0x100
        add word ptr [esp], 0x7fff
        adc eax, dword ptr [0x12345678]
        sub dword ptr [ebp-8], 1
        inc eax
        dec cx
        push eax
        pop edi
        push es
        pop ds
        push cs
        push ss
        pop ss
        pusha
        popad
        pushfd
        daa
        das
        aaa
        aas
        aam
        aad 0x0a
        into
        bound eax, [eax]
        les eax, [eax]
        lds ax, [eax]
        lss esp, [eax]
        lfs eax, [eax]
        arpl ax, bx
        mov eax, [0x12345678]
        mov al, byte ptr fs:[0x10]
        mov ax, word ptr [bp+si]
        mov eax, dword ptr [bx+di+0x10]
        mov ecx, dword ptr [si+0x1234]
        mov ds, ax
        mov es, word ptr [eax]
        mov eax, cr0
        mov cr3, eax
        mov dr7, eax
        jmp 0x8:0x12345678
        call 0x10:0x1000
        jmp fword ptr [eax]
        call dword ptr [eax]
        jmp short 1f
1:      jecxz 1f
1:      jcxz 1f
1:      loop 1b
        je start
        data16 jmp 1f
1:      call start
        ret 4
        retf 4
        iret
        iretw
        int 0x21
        enter 8, 1
        leave
        sysenter
        sysexit
        rep stosd
        rep movsw
        lock xchg [eax], ecx
        cmpxchg8b [esi]
        movzx eax, word ptr [eax]
        movsx cx, byte ptr [eax]
        imul eax, ecx, -4
        shl dword ptr [eax], 4
        bts eax, 5
        lgdt [eax]
        lidt [esi]
        ltr ax
        invlpg [eax]
        in al, dx
        out 0x80, eax
        outsb
        fld dword ptr [eax]
        fistp word ptr [esp]
        movaps xmm0, [eax]
        pshufw mm0, mm1, 3
        vmovdqu xmm0, [eax]
        vpaddd ymm0, ymm1, ymm2
        vpshufd xmm0, xmm1, 5
        vaddps zmm0, zmm1, zmm2
        nop
        xlatb
