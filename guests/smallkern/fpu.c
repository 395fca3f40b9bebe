/*
 * The FPU check: main() puts known values in the x87 control word, MXCSR and XMM7 (the compiler
 * never uses them: -mgeneral-regs-only), and every trap checks that they are still there, i.e.
 * that the monitor's event injection and state handling preserved the guest's FPU state.
 * FXSAVE/FXRSTOR are used instead of FLDCW/MOVQ because they are the accesses every backend
 * (including PVM's CPL0 emulator) supports.
 */
#include "smallkern.h"

#define CR4_OSFXSR	0x200
#define CR4_OSXMMEXCPT	0x400
#define FXSAVE_FCW	0
#define FXSAVE_MXCSR	24
#define FXSAVE_XMM7	(160 + 7 * 16)
#define TEST_FCW	0x027f		/* default 0x037f with 53-bit precision */
#define TEST_MXCSR	0x3f80		/* default 0x1f80 with rounding toward -inf */

static const uint64_t xmm7_pattern[2] = { 0x0123456789abcdefUL, 0xfedcba9876543210UL };
static uint8_t fxarea[512] __attribute__((aligned(16)));

static inline uint16_t rd16(const uint8_t *p) { return *(const uint16_t *)p; }
static inline uint32_t rd32(const uint8_t *p) { return *(const uint32_t *)p; }
static inline uint64_t rd64(const uint8_t *p) { return *(const uint64_t *)p; }

void fpu_init(void)
{
	uint64_t cr4;

	__asm__ volatile("movq %%cr4, %0" : "=r"(cr4));
	cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
	__asm__ volatile("movq %0, %%cr4" :: "r"(cr4));
	__asm__ volatile("fninit; fxsave %0" : "=m"(fxarea));
	*(uint16_t *)&fxarea[FXSAVE_FCW] = TEST_FCW;
	*(uint32_t *)&fxarea[FXSAVE_MXCSR] = TEST_MXCSR;
	*(uint64_t *)&fxarea[FXSAVE_XMM7] = xmm7_pattern[0];
	*(uint64_t *)&fxarea[FXSAVE_XMM7 + 8] = xmm7_pattern[1];
	__asm__ volatile("fxrstor %0" :: "m"(fxarea));
}

int fpu_intact(void)
{
	__asm__ volatile("fxsave %0" : "=m"(fxarea));
	return rd16(&fxarea[FXSAVE_FCW]) == TEST_FCW && rd32(&fxarea[FXSAVE_MXCSR]) == TEST_MXCSR &&
	    rd64(&fxarea[FXSAVE_XMM7]) == xmm7_pattern[0] &&
	    rd64(&fxarea[FXSAVE_XMM7 + 8]) == xmm7_pattern[1];
}
