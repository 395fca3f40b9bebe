/*
 * The long-mode descriptor tables: a GDT with kernel code/data and a 64-bit TSS, and an IDT
 * whose gates point at locore.S's stubs (exceptions 0-31 and the toyvirt interrupt, 200).
 */
#include "smallkern.h"

#define SEL_KCODE	0x08
#define SEL_KDATA	0x10
#define SEL_TSS		0x18
#define GATE_INTR	0x8e	/* present, DPL 0, 64-bit interrupt gate */
#define NVECTORS	256

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct gate {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, reserved;
} __attribute__((packed));

struct pseudo_desc {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

static uint64_t gdt[5] __attribute__((aligned(16)));
static struct gate idt[NVECTORS] __attribute__((aligned(16)));
static struct tss tss __attribute__((aligned(16)));
static uint8_t nmi_stack[4096] __attribute__((aligned(16)));

extern const uint64_t trap_entries[32];
extern const uint64_t trap_entry_200;

static void set_gate(int vec, uint64_t handler, int ist)
{
	idt[vec] = (struct gate){
		.off_lo = handler & 0xffff, .sel = SEL_KCODE, .ist = ist, .type = GATE_INTR,
		.off_mid = (handler >> 16) & 0xffff, .off_hi = handler >> 32,
	};
}

static void set_tss_desc(uint64_t *d, uint64_t base, uint32_t limit)
{
	/* Available 64-bit TSS (type 9), present; 16 bytes: the second half holds base[63:32]. */
	d[0] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89UL << 40) |
	    ((uint64_t)(limit & 0xf0000) << 32) | ((base >> 24) & 0xff) << 56;
	d[1] = base >> 32;
}

void desc_init(void)
{
	struct pseudo_desc gdtr = { sizeof(gdt) - 1, (uint64_t)gdt };
	struct pseudo_desc idtr = { sizeof(idt) - 1, (uint64_t)idt };
	int i;

	gdt[0] = 0;
	gdt[1] = 0x00209a0000000000UL;	/* kernel code, 64-bit */
	gdt[2] = 0x0000920000000000UL;	/* kernel data */
	tss.iomap_base = sizeof(tss);
	tss.ist[0] = (uint64_t)&nmi_stack[sizeof(nmi_stack)];	/* IST1: NMIs get their own stack */
	set_tss_desc(&gdt[3], (uint64_t)&tss, sizeof(tss) - 1);

	for (i = 0; i < 32; i++)
		set_gate(i, trap_entries[i], i == 2 ? 1 : 0);
	set_gate(200, trap_entry_200, 0);

	__asm__ volatile(
	    "lgdt %0\n\t"
	    "pushq %1\n\t"
	    "leaq 1f(%%rip), %%rax\n\t"
	    "pushq %%rax\n\t"
	    "lretq\n"
	    "1:\tmovw %w2, %%ds\n\t"
	    "movw %w2, %%es\n\t"
	    "movw %w2, %%ss\n\t"
	    "ltr %w3\n\t"
	    "lidt %4"
	    :: "m"(gdtr), "i"(SEL_KCODE), "r"(SEL_KDATA), "r"(SEL_TSS), "m"(idtr)
	    : "rax", "memory");
}

/* An empty IDT makes the next exception unrecoverable: #UD -> #GP -> #DF -> shutdown. */
void triple_fault(void)
{
	struct pseudo_desc null_idt = { 0, 0 };

	__asm__ volatile("lidt %0\n\tud2" :: "m"(null_idt));
	for (;;)
		;
}
