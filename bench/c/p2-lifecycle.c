/*
 * P2 reference: the VM lifecycle of bench/p2-lifecycle in C, with the same KVM calls the tsvisor
 * KVM backend makes: create the VM (+ TSS area, user-space MSR exits and the MSR filter that
 * leaves IA32_APIC_BASE to user space), map one read-only 4 KiB
 * ROM page holding guests/calc at 0xFFFFF000, create vCPU 0 and map its kvm_run, load CPUID,
 * give KVM the signal mask to use in the guest (tsvisor needs it for stop(); the P1 reference
 * does the same), set RAX/RBX, run from the reset vector to HLT, read RBX, destroy everything.
 * Prints the microseconds per lifecycle of each round: wall clock, then this thread's CPU time.
 * Usage: p2-lifecycle CALC.bin ITERATIONS ROUNDS
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

static void die(const char *what) { perror(what); exit(1); }

static double clock_ns(clockid_t clock) {
	struct timespec t;
	clock_gettime(clock, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static uint8_t rom[4096];
static struct kvm_cpuid2 *cpuid;

static uint64_t lifecycle(int kvm, int run_size, uint64_t a, uint64_t b) {
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) die("KVM_CREATE_VM");
	ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000);
	struct kvm_enable_cap cap = { .cap = KVM_CAP_X86_USER_SPACE_MSR, .args = { KVM_MSR_EXIT_REASON_UNKNOWN | KVM_MSR_EXIT_REASON_FILTER } };
	if (ioctl(vm, KVM_ENABLE_CAP, &cap)) die("KVM_ENABLE_CAP");
	static uint8_t deny = 0;
	struct kvm_msr_filter filter = { .flags = KVM_MSR_FILTER_DEFAULT_ALLOW,
		.ranges = { { .flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE, .nmsrs = 1, .base = 0x1b, .bitmap = &deny } } };
	if (ioctl(vm, KVM_X86_SET_MSR_FILTER, &filter)) die("KVM_X86_SET_MSR_FILTER");
	uint8_t *mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED) die("mmap");
	memcpy(mem, rom, sizeof rom);
	struct kvm_userspace_memory_region region = { .slot = 0, .flags = KVM_MEM_READONLY, .guest_phys_addr = 0xfffff000,
		.memory_size = 4096, .userspace_addr = (uint64_t)mem };
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region)) die("KVM_SET_USER_MEMORY_REGION");
	int cpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (cpu < 0) die("KVM_CREATE_VCPU");
	struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, cpu, 0);
	if (run == MAP_FAILED) die("mmap kvm_run");
	if (ioctl(cpu, KVM_SET_CPUID2, cpuid)) die("KVM_SET_CPUID2");
	struct { uint32_t len; uint8_t set[8]; } mask = { 8, { 0 } };
	if (ioctl(cpu, KVM_SET_SIGNAL_MASK, &mask)) die("KVM_SET_SIGNAL_MASK");
	struct kvm_regs regs;
	if (ioctl(cpu, KVM_GET_REGS, &regs)) die("KVM_GET_REGS");
	regs.rax = a;
	regs.rbx = b;
	regs.rdx = 0;
	if (ioctl(cpu, KVM_SET_REGS, &regs)) die("KVM_SET_REGS");
	if (ioctl(cpu, KVM_RUN, 0) < 0) die("KVM_RUN");
	if (run->exit_reason != KVM_EXIT_HLT) { fprintf(stderr, "unexpected exit %u\n", run->exit_reason); exit(1); }
	if (ioctl(cpu, KVM_GET_REGS, &regs)) die("KVM_GET_REGS");
	munmap(run, run_size);
	close(cpu);
	close(vm);
	munmap(mem, 4096);
	return regs.rbx;
}

int main(int argc, char **argv) {
	if (argc != 4) { fprintf(stderr, "usage: %s CALC.bin ITERATIONS ROUNDS\n", argv[0]); return 2; }
	long iterations = atol(argv[2]), rounds = atol(argv[3]);
	FILE *f = fopen(argv[1], "rb");
	if (!f) die(argv[1]);
	fread(rom, 1, sizeof rom, f);
	fclose(f);
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) die("/dev/kvm");
	int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	cpuid = calloc(1, sizeof *cpuid + 256 * sizeof cpuid->entries[0]);
	cpuid->nent = 256;
	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid)) die("KVM_GET_SUPPORTED_CPUID");
	for (long r = -1; r < rounds; r++) { /* round -1 warms up */
		double w0 = clock_ns(CLOCK_MONOTONIC), c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
		for (long i = 0; i < iterations; i++) {
			if (lifecycle(kvm, run_size, 3, 5) != 8) { fprintf(stderr, "calc gave a wrong sum\n"); return 1; }
		}
		double w = clock_ns(CLOCK_MONOTONIC) - w0, c = clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
		if (r >= 0) printf("%.2f %.2f\n", w / iterations / 1000, c / iterations / 1000);
	}
	return 0;
}
