/*
 * P1 reference: the KVM_RUN loop of a minimal C VMM on the same guest as bench/p1-io-exit
 * (guests/kvm-outloop: OUT to port 0x10 forever, 64-bit long mode, CPL3), with the same guest
 * setup (identity-mapped first GiB with 2 MiB user pages, flat CPL3 segments, a TSS whose I/O
 * bitmap allows every port). Each round times `exits` KVM_RUN calls, each checked to be the
 * expected I/O exit, and prints the nanoseconds per exit: wall clock, then this thread's CPU time.
 * The vCPU is configured as the tsvisor KVM backend configures its own: registers, segments and
 * pending events synced into kvm_run at every exit (KVM_CAP_SYNC_REGS, for each exit's RIP and
 * state) and a KVM_SET_SIGNAL_MASK (for stop()), so the ratio measures the JS side of the loop.
 * Usage: p1-io-exit GUEST.bin EXITS ROUNDS
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define RAM_SIZE (4u << 20)
#define LOAD 0x10000
#define PML4 0x100000
#define TSS 0x120000
#define STACK 0x200000

static void die(const char *what) { perror(what); exit(1); }

static double clock_ns(clockid_t clock) {
	struct timespec t;
	clock_gettime(clock, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static struct kvm_segment flat(uint16_t sel, uint8_t type, uint8_t dpl, uint8_t l) {
	struct kvm_segment s = { .base = 0, .limit = 0xffffffff, .selector = sel, .type = type, .present = 1,
		.dpl = dpl, .db = !l, .s = 1, .l = l, .g = 1 };
	return s;
}

int main(int argc, char **argv) {
	if (argc != 4) { fprintf(stderr, "usage: %s GUEST.bin EXITS ROUNDS\n", argv[0]); return 2; }
	long exits = atol(argv[2]), rounds = atol(argv[3]);
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) die("/dev/kvm");
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) die("KVM_CREATE_VM");
	uint8_t *ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (ram == MAP_FAILED) die("mmap");
	FILE *f = fopen(argv[1], "rb");
	if (!f) die(argv[1]);
	fread(ram + LOAD, 1, 0x10000, f);
	fclose(f);
	struct kvm_userspace_memory_region region = { .slot = 0, .guest_phys_addr = 0, .memory_size = RAM_SIZE,
		.userspace_addr = (uint64_t)ram };
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region)) die("KVM_SET_USER_MEMORY_REGION");

	/* PML4 -> PDPT -> one PD of 2 MiB user pages covering 1 GiB. */
	uint64_t *pml4 = (uint64_t *)(ram + PML4), *pdpt = (uint64_t *)(ram + PML4 + 0x1000), *pd = (uint64_t *)(ram + PML4 + 0x2000);
	pml4[0] = (PML4 + 0x1000) | 7;
	pdpt[0] = (PML4 + 0x2000) | 7;
	for (int i = 0; i < 512; i++) pd[i] = ((uint64_t)i << 21) | 0x87;
	*(uint32_t *)(ram + TSS + 4) = STACK;
	*(uint16_t *)(ram + TSS + 0x66) = 0x68;
	ram[TSS + 0x68 + 0x2000] = 0xff;

	int cpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (cpu < 0) die("KVM_CREATE_VCPU");
	int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, cpu, 0);
	if (run == MAP_FAILED) die("mmap kvm_run");

	struct kvm_sregs sregs;
	if (ioctl(cpu, KVM_GET_SREGS, &sregs)) die("KVM_GET_SREGS");
	sregs.cs = flat(0x2b, 11, 3, 1);
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = flat(0x23, 3, 3, 0);
	sregs.tr = (struct kvm_segment){ .base = TSS, .limit = 0x68 + 0x2000, .selector = 0x30, .type = 11, .present = 1 };
	sregs.cr3 = PML4;
	sregs.cr4 = 0x20 | 0x200 | 0x400;
	sregs.cr0 = 0x80050033;
	sregs.efer = 0x501;
	if (ioctl(cpu, KVM_SET_SREGS, &sregs)) die("KVM_SET_SREGS");
	struct kvm_regs regs = { .rip = LOAD, .rsp = STACK, .rflags = 2 };
	if (ioctl(cpu, KVM_SET_REGS, &regs)) die("KVM_SET_REGS");

	run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS;
	struct { uint32_t len; uint8_t set[8]; } mask = { 8, { 0 } };
	if (ioctl(cpu, KVM_SET_SIGNAL_MASK, &mask)) die("KVM_SET_SIGNAL_MASK");

	for (long r = -1; r < rounds; r++) { /* round -1 warms up */
		double w0 = clock_ns(CLOCK_MONOTONIC), c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
		for (long i = 0; i < exits; i++) {
			if (ioctl(cpu, KVM_RUN, 0) < 0) die("KVM_RUN");
			if (run->exit_reason != KVM_EXIT_IO || run->io.port != 0x10 || run->io.direction != KVM_EXIT_IO_OUT) {
				fprintf(stderr, "unexpected exit %u\n", run->exit_reason);
				return 1;
			}
		}
		double w = clock_ns(CLOCK_MONOTONIC) - w0, c = clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
		if (r >= 0) printf("%.1f %.1f\n", w / exits, c / exits);
	}
	return 0;
}
