/*
 * The trap handler: reports each event, checks the FPU state, has main() idle once with
 * interrupts disabled after the first NMI, raises CR8 to 15 on the first hardware interrupt (so
 * that toyvirt stops sending them), and after TRAPS_BEFORE_SHUTDOWN traps triple-faults, which
 * toyvirt sees as a shutdown.
 */
#include "smallkern.h"

#define T_NMI		2
#define T_INVLOP	6
#define T_PROTFLT	13
#define T_TOYVIRT_INTR	200
#define UD2_LENGTH	2

volatile unsigned ntraps;
/* Set on the first NMI: main() then waits once with interrupts disabled, so that the next
 * hardware interrupt finds the guest unable to take it and toyvirt must wait for the window. */
volatile int idle_with_interrupts_off;
static int cr8_raised;
static int nmi_seen;

static const char *trap_name(uint64_t vector)
{
	switch (vector) {
	case T_NMI:		return "NMI";
	case T_INVLOP:		return "#UD (invalid opcode)";
	case T_PROTFLT:		return "#GP (general protection)";
	case T_TOYVIRT_INTR:	return "hardware interrupt";
	default:		return "unexpected trap";
	}
}

void trap(struct trapframe *tf)
{
	ntraps++;
	puts("trap ");
	putdec(ntraps);
	puts(": vector ");
	putdec(tf->vector);
	puts(", ");
	puts(trap_name(tf->vector));
	puts(fpu_intact() ? ", FPU state intact\n" : ", FPU state CORRUPTED\n");

	switch (tf->vector) {
	case T_INVLOP:
		tf->rip += UD2_LENGTH;	/* the only #UD is main()'s ud2: resume after it */
		break;
	case T_PROTFLT:
		if (tf->error != 0) {
			puts("unexpected #GP error code ");
			puthex(tf->error);
			puts("\n");
			triple_fault();
		}
		break;
	case T_NMI:
		if (!nmi_seen) {
			nmi_seen = 1;
			idle_with_interrupts_off = 1;
		}
		break;
	case T_TOYVIRT_INTR:
		if (!cr8_raised) {
			lcr8(15);
			cr8_raised = 1;
			puts("CR8 set to 15: no more hardware interrupts\n");
		}
		break;
	default:
		triple_fault();
	}

	if (ntraps == TRAPS_BEFORE_SHUTDOWN) {
		puts("10 traps taken: triple-faulting\n");
		outb(STATUS_PORT, 0);
		triple_fault();
	}
}
