/* smallkern: shared declarations and the few CPU instructions it needs, as inline functions. */
#ifndef SMALLKERN_H
#define SMALLKERN_H

typedef unsigned char uint8_t;
typedef unsigned short uint16_t;
typedef unsigned int uint32_t;
typedef unsigned long uint64_t;

#define CONSOLE_PORT	123		/* toyvirt's console device */
#define STATUS_PORT	124		/* toyvirt's status port: 0 = work done, else failure */
#define LAPIC_BASE	0xfee00000UL
#define LAPIC_ID	0x20		/* ID register: APIC id in bits 31:24 */
#define MSR_APICBASE	0x1b
#define APICBASE_BSP	0x100
#define APICBASE_EN	0x800
#define EXPECTED_APIC_ID 120		/* toyvirt creates vCPU 120 */
#define CPUID_NOX	(1U << 20)	/* CPUID 0x80000001 EDX: NX */
#define TRAPS_BEFORE_SHUTDOWN 10

/* Pushed by locore.S trap_common (GPRs), the stub (vector, error) and the CPU (the rest). */
struct trapframe {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

/* console.c */
void putc(char c);
void puts(const char *s);
void putdec(uint64_t v);
void puthex(uint64_t v);

/* desc.c */
void desc_init(void);
void triple_fault(void) __attribute__((noreturn));

/* fpu.c */
void fpu_init(void);
int fpu_intact(void);

/* trap.c */
void trap(struct trapframe *tf);
extern volatile unsigned ntraps;
extern volatile int idle_with_interrupts_off;

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port));
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

static inline uint32_t mmio_read32(uint64_t addr)
{
	return *(volatile uint32_t *)addr;
}

static inline void lcr8(uint64_t v)
{
	__asm__ volatile("movq %0, %%cr8" :: "r"(v));
}

#endif
