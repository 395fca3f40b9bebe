/*
 * P8 bench guest (bench/p8-call-chain.bench.ts): kernel-shaped short code, where each block the
 * soft CPU runs holds a few instructions: a loop of 64 CALLs to 64 leaf functions, each
 * PUSH, MOV, ADD, XOR, POP, RET (with the loop's DEC/JNZ, 129 blocks per pass). A Linux boot
 * spends a third of its compiled calls in blocks of this size (5 instructions on average).
 *
 * 64-bit code. Offset 0 (entry, the soft side): call_chain(ITER), then the result (EAX) to port
 * 0xe9 and HLT. The bench patches ITER: the imm32 of `mov $1000, %edi` at count.
 * bench/c/p8-call-chain.c links the same function natively (System V ABI: edi passes, returns eax).
 */
	.code64
	.text
	.globl call_chain
entry:
count:
	mov $1000, %edi
	call call_chain
	mov $0xe9, %dx
	out %eax, %dx
	hlt

call_chain:
	xor %eax, %eax
1:
	.irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63
	call leaf\i
	.endr
	dec %edi
	jnz 1b
	ret

	.irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63
leaf\i:
	push %rbx
	mov %eax, %ebx
	add $(\i + 1), %eax
	xor %ebx, %eax
	pop %rbx
	ret
	.endr
