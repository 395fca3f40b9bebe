/*
 * smallkern: a small 64-bit kernel that exercises what toyvirt provides (after NetBSD's NVMM
 * demonstrator). Every check prints one line; a failed check says FAILED and shuts the machine
 * down at once, so a broken monitor or backend can never produce the expected transcript.
 */
#include "smallkern.h"

static void check(int ok, const char *what)
{
	puts(what);
	if (ok) {
		puts(": ok\n");
		return;
	}
	puts(": FAILED\n");
	outb(STATUS_PORT, 1);
	triple_fault();
}

static void check_apicbase(void)
{
	uint64_t v = rdmsr(MSR_APICBASE);

	puts("IA32_APIC_BASE = ");
	puthex(v);
	puts("\n");
	check((v & ~0xfffUL) == LAPIC_BASE && (v & APICBASE_BSP) && (v & APICBASE_EN),
	    "LAPIC at 0xfee00000, BSP, enabled");
}

static void check_nx(void)
{
	uint32_t a, b, c, d;

	cpuid(0x80000001, &a, &b, &c, &d);
	check(!(d & CPUID_NOX), "CPUID 0x80000001: NX absent");
}

static uint32_t check_cpuid_apic_id(void)
{
	uint32_t a, b, c, d;

	cpuid(1, &a, &b, &c, &d);
	puts("CPUID 1: APIC id ");
	putdec(b >> 24);
	puts("\n");
	check(b >> 24 == EXPECTED_APIC_ID, "CPUID APIC id is 120");
	return b >> 24;
}

static void check_lapic_id(uint32_t cpuid_id)
{
	uint32_t id = mmio_read32(LAPIC_BASE + LAPIC_ID) >> 24;

	puts("LAPIC ID register: ");
	putdec(id);
	puts("\n");
	check(id == cpuid_id, "LAPIC id matches CPUID");
}

/*
 * Idles with IF clear until the next trap (an exception or NMI still gets in): a hardware
 * interrupt sent meanwhile must wait for the window that opens at the STI after it.
 */
static void wait_with_interrupts_off(void)
{
	unsigned seen = ntraps;

	idle_with_interrupts_off = 0;
	puts("waiting with interrupts disabled until the next trap\n");
	__asm__ volatile("cli" ::: "memory");
	while (ntraps == seen)
		__asm__ volatile("hlt" ::: "memory");
	puts("enabling interrupts\n");
}

void main(void)
{
	puts("smallkern: 64-bit long mode, identity-mapped, CPL0\n");
	desc_init();
	puts("GDT, TSS and IDT loaded\n");
	fpu_init();
	check(fpu_intact(), "FPU state set (FCW, MXCSR, XMM7)");
	check_apicbase();
	check_nx();
	check_lapic_id(check_cpuid_apic_id());

	puts("executing ud2\n");
	__asm__ volatile("ud2");
	puts("waiting for events\n");
	for (;;) {
		if (idle_with_interrupts_off)
			wait_with_interrupts_off();
		__asm__ volatile("sti; hlt" ::: "memory");
	}
}
