# Instruction forms for the decoder's length test against objdump (64-bit mode).
# Assembled at test time (as --64), disassembled with objdump -M intel64; lengths must agree.
        .intel_syntax noprefix
        .code64
        .text
start:
        # ALU, every operand form and size
        add al, 1
        add eax, 0x12345678
        add rax, -1
        add ax, 0x1234
        add byte ptr [rax], 1
        add dword ptr [rbx+rcx*4+8], 0x100
        add qword ptr [rip+0x1000], 5
        add word ptr [rsp], 0x7fff
        or cl, dl
        adc r8, r9
        sbb r10d, dword ptr [r11+r12*8-0x80]
        and r13w, word ptr [r14]
        sub spl, bpl
        xor sil, byte ptr [rdi]
        cmp r15b, 0x7f
        cmp qword ptr [rbp-8], 0
        test al, 0x80
        test eax, 0x80000000
        test rax, rbx
        test byte ptr [rsi], 4
        test dword ptr [rdi+0x400], 0x12345
        lock add dword ptr [rax], ecx
        lock inc qword ptr [rax]
        lock xadd [rdx], rax
        lock cmpxchg [rdx], ecx
        lock cmpxchg16b [rsi]
        lock cmpxchg8b [rsi]
        lock bts dword ptr [rax], 3
        xchg rax, r8
        xchg [rax], bl
        # MOV forms
        mov rax, 0x123456789abcdef0
        mov eax, 0x12345678
        mov ax, 0x1234
        mov al, 0x12
        mov r12b, 0x12
        mov rax, -1
        mov qword ptr [rax], -1
        mov byte ptr [rax+rbx], 0x55
        mov word ptr [rax], 0x55aa
        movabs rax, [0x1122334455667788]
        movabs [0x1122334455667788], al
        mov eax, dword ptr fs:[0x28]
        mov rax, qword ptr gs:[0]
        mov ds, ax
        mov ax, ss
        mov rax, cs
        mov word ptr [rax], es
        movzx eax, byte ptr [rax]
        movzx rax, word ptr [rax]
        movsx ecx, dl
        movsx rcx, dx
        movsxd rax, dword ptr [rax]
        lea rax, [rip+0x1234]
        lea eax, [rax+rax*2]
        lea rsp, [rsp+8]
        lea r8, [r13]
        lea r9, [r12]
        lea r10, [0x1000]
        lea r11, [rbp*2]
        # Shifts, rotates, mul/div
        shl eax, 1
        shr rax, cl
        sar byte ptr [rax], 3
        rol r8, 7
        rcr dword ptr [rax], 1
        shld eax, ebx, 4
        shrd rax, rbx, cl
        imul eax, ebx, 100
        imul rax, rbx, 0x12345
        imul ecx, dword ptr [rax]
        mul rcx
        div byte ptr [rax]
        idiv r9
        neg rax
        not byte ptr [rax]
        # Bit ops
        bt eax, 3
        bts qword ptr [rax], rcx
        btr ax, 15
        btc dword ptr [rax], 31
        bsf eax, ecx
        bsr rax, qword ptr [rax]
        popcnt eax, ecx
        popcnt ax, word ptr [rax]
        lzcnt rax, rcx
        tzcnt eax, dword ptr [rax]
        bswap eax
        bswap r9
        movbe eax, dword ptr [rax]
        movbe word ptr [rax], cx
        crc32 eax, byte ptr [rax]
        crc32 rax, qword ptr [rax]
        adcx eax, ecx
        adox rax, rcx
        # Conditionals
        cmove eax, ebx
        cmovg rax, qword ptr [rsp+8]
        sete al
        setnz byte ptr [rax]
        # Stack and control flow
        push rax
        push r15
        push 0x12
        push 0x12345678
        push qword ptr [rax]
        pop rbx
        pop r12
        pop qword ptr [rax]
        push fs
        pop gs
        pushfq
        popfq
        enter 0x20, 0
        leave
        call start
        call rax
        call qword ptr [rax+8]
        jmp start
        jmp short 1f
1:      jmp rax
        jmp qword ptr [rip+0x100]
        je start
        jne 1f
1:      jrcxz 1f
1:      loop 1b
        ret
        ret 8
        retfq
        iretq
        int3
        int 0x80
        # String and I/O
        rep movsb
        rep movsq
        repne scasb
        repe cmpsd
        lodsw
        stosq
        in al, 0x60
        in eax, dx
        out 0x80, al
        out dx, ax
        insb
        rep outsd
        # Misc and system
        cbw
        cwde
        cdqe
        cwd
        cqo
        sahf
        lahf
        clc
        stc
        cmc
        cld
        std
        cli
        sti
        hlt
        nop
        pause
        nop dword ptr [rax+rax*1+0]
        nop word ptr cs:[rax+rax*1+0]
        endbr64
        ud2
        cpuid
        rdtsc
        rdtscp
        rdmsr
        wrmsr
        rdpmc
        syscall
        sysretq
        sysenter
        sysexitq
        swapgs
        clts
        invd
        wbinvd
        invlpg [rax]
        lgdt [rax]
        lidt [rax]
        sgdt [rax]
        sidt [rax]
        lldt ax
        ltr ax
        sldt eax
        str word ptr [rax]
        lmsw ax
        smsw eax
        lar eax, ax
        lsl rax, word ptr [rax]
        verr ax
        verw word ptr [rax]
        mov rax, cr0
        mov cr3, rax
        mov cr4, rbx
        mov rax, cr8
        mov rdx, dr7
        mov dr0, rax
        xgetbv
        xsetbv
        monitor
        mwait
        vmcall
        vmlaunch
        vmresume
        vmxoff
        vmread rax, rcx
        vmwrite rcx, qword ptr [rax]
        vmptrld [rax]
        vmclear [rax]
        vmxon [rax]
        vmrun
        vmmcall
        stgi
        clgi
        clac
        stac
        rdrand eax
        rdseed rax
        rdfsbase rax
        wrgsbase rdx
        lfence
        mfence
        sfence
        clflush [rax]
        fxsave [rax]
        fxrstor [rax]
        xsave [rax]
        xrstor [rax]
        ldmxcsr [rax]
        stmxcsr [rax]
        prefetcht0 [rax]
        prefetchw [rax]
        xlatb
        # x87
        fld dword ptr [rax]
        fld qword ptr [rax+8]
        fld tbyte ptr [rax]
        fldz
        fadd st, st(1)
        faddp st(1), st
        fimul dword ptr [rax]
        fstp qword ptr [rsp]
        fnstsw ax
        fnstcw [rax]
        fxch st(2)
        fsqrt
        # SSE / MMX
        movaps xmm0, xmm1
        movups xmm2, [rax]
        movdqa xmm8, [rsp+0x10]
        movq xmm0, rax
        movd eax, xmm1
        pshufd xmm0, xmm1, 0x1b
        psrldq xmm0, 4
        pinsrw xmm0, eax, 3
        pextrw eax, xmm0, 3
        shufps xmm0, xmm1, 0x44
        cmpps xmm0, xmm1, 1
        cvtsi2sd xmm0, rax
        pshufb xmm0, xmm1
        palignr xmm0, xmm1, 8
        pextrd eax, xmm0, 1
        roundsd xmm0, xmm1, 4
        pcmpistri xmm0, [rax], 0x0c
        paddb mm0, mm1
        emms
        movnti [rax], rax
        # AVX, AVX2, BMI, AVX-512
        vzeroupper
        vzeroall
        vmovdqu ymm0, [rax]
        vpaddd ymm0, ymm1, ymm2
        vpshufd ymm0, ymm1, 0x1b
        vpalignr ymm0, ymm1, ymm2, 8
        vbroadcastss ymm0, [rax]
        vpermq ymm0, ymm1, 0x4e
        vmovdqu ymm8, [r13+r14*4+0x100]
        andn eax, ebx, ecx
        bextr rax, rbx, rcx
        rorx eax, ebx, 3
        shlx rax, rbx, rcx
        mulx rax, rbx, rcx
        vmovdqu64 zmm0, [rax]
        vmovdqu32 zmm1{k1}{z}, [rax+0x40]
        vpaddd zmm0, zmm1, zmm2
        vpternlogd zmm0, zmm1, zmm2, 0xff
        vaddps zmm0, zmm1, [rax]{1to16}
        kmovw k1, eax
        # XOP (AMD)
        vprotb xmm0, xmm1, 3
        vphaddbw xmm0, xmm1
        # Prefix combinations
        data16 nop
        addr32 mov eax, [eax]
        mov eax, [eax+ebx*2+4]
        mov ax, word ptr [ebp]
        cs nop
        rex.W nop
        .byte 0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0
        .byte 0x66, 0xe8, 0, 0, 0, 0
