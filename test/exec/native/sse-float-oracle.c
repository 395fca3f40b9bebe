/*
 * Native oracle for the SSE floating-point tests (test/sse-float): runs one SSE instruction on
 * this CPU with given MXCSR, XMM0, XMM1, MM0, MM1, RAX and RFLAGS, and prints what changed.
 *
 * stdin, one case per line (hex):  CODE MXCSR XMM0 XMM1 MM0 MM1 RAX FLAGS
 *   XMM0/XMM1 are 32 digits, byte 0 first; MM0/MM1/RAX/FLAGS are numbers.
 * stdout, one line per case:
 *   "OK MXCSR XMM0 MM0 RAX FLAGS"  after the instruction ran, or
 *   "XM MXCSR XMM0"                when it raised #XM (SIGFPE): MXCSR and XMM0 as the fault left them,
 *                                  read from the signal frame, or
 *   "UD" / "SEGV"                  for other faults.
 * The instruction must use only xmm0/xmm1/mm0/mm1/rax (and no stack or memory operand).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

struct state {
  unsigned char xmm0[16];   /* 0 */
  unsigned char xmm1[16];   /* 16 */
  uint64_t rax;             /* 32 */
  uint64_t mm0;             /* 40 */
  uint64_t mm1;             /* 48 */
  uint32_t mxcsr;           /* 56 */
  uint32_t pad;
  uint64_t flags;           /* 64 */
};

extern const unsigned char pro_start[], pro_end[], epi_start[], epi_end[];
__asm__(
  ".text\n"
  ".globl pro_start, pro_end, epi_start, epi_end\n"
  "pro_start:\n"
  " movdqu 0(%rdi),%xmm0\n movdqu 16(%rdi),%xmm1\n"
  " movq 40(%rdi),%mm0\n movq 48(%rdi),%mm1\n"
  " mov 32(%rdi),%rax\n"
  " pushq 64(%rdi)\n popfq\n"
  " ldmxcsr 56(%rdi)\n"
  "pro_end:\n"
  "epi_start:\n"
  " stmxcsr 56(%rdi)\n"
  " pushfq\n popq 64(%rdi)\n"
  " movdqu %xmm0,0(%rdi)\n movq %mm0,40(%rdi)\n mov %rax,32(%rdi)\n"
  " emms\n"
  " movl $0x1f80,-4(%rsp)\n ldmxcsr -4(%rsp)\n"
  " cld\n ret\n"
  "epi_end:\n");

static sigjmp_buf env;
static uint32_t fault_mxcsr;
static unsigned char fault_xmm0[16];

static void on_signal(int sig, siginfo_t *info, void *ctx) {
  (void)info;
  if (sig == SIGFPE) {
    ucontext_t *uc = ctx;
    fault_mxcsr = uc->uc_mcontext.fpregs->mxcsr;
    memcpy(fault_xmm0, uc->uc_mcontext.fpregs->_xmm[0].element, 16);
  }
  siglongjmp(env, sig);
}

#include "hex-io.h"

static void print_bytes(const unsigned char *b, int n) {
  for (int i = 0; i < n; i++) printf("%02x", b[i]);
}

int main(void) {
  unsigned char *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (code == MAP_FAILED) { perror("mmap"); return 2; }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_NODEFER | SA_SIGINFO;
  sigaction(SIGFPE, &sa, NULL);
  sigaction(SIGILL, &sa, NULL);
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);

  size_t pro = (size_t)(pro_end - pro_start), epi = (size_t)(epi_end - epi_start);
  static char line[1024];
  char codehex[64], x0[40], x1[40];
  unsigned char last[16];
  int lastn = -1;
  while (fgets(line, sizeof line, stdin)) {
    struct state st;
    unsigned long long mx, m0, m1, rax, fl;
    if (sscanf(line, "%63s %llx %39s %39s %llx %llx %llx %llx", codehex, &mx, x0, x1, &m0, &m1, &rax, &fl) != 8) {
      fprintf(stderr, "bad line: %s", line);
      return 2;
    }
    unsigned char insn[16];
    int n = parse_bytes(codehex, insn, 15);
    if (n <= 0 || parse_bytes(x0, st.xmm0, 16) != 16 || parse_bytes(x1, st.xmm1, 16) != 16) {
      fprintf(stderr, "bad hex: %s", line);
      return 2;
    }
    st.mxcsr = (uint32_t)mx; st.mm0 = m0; st.mm1 = m1; st.rax = rax; st.flags = fl & 0xcd5; st.pad = 0;
    if (n != lastn || memcmp(insn, last, (size_t)n) != 0) {
      memcpy(code, pro_start, pro);
      memcpy(code + pro, insn, (size_t)n);
      memcpy(code + pro + n, epi_start, epi);
      __builtin___clear_cache((char *)code, (char *)code + pro + n + epi);
      memcpy(last, insn, (size_t)n);
      lastn = n;
    }
    int sig = sigsetjmp(env, 1);
    if (sig == 0) {
      ((void (*)(struct state *))code)(&st);
      printf("OK %x ", st.mxcsr);
      print_bytes(st.xmm0, 16);
      printf(" %llx %llx %llx\n", (unsigned long long)st.mm0, (unsigned long long)st.rax,
             (unsigned long long)(st.flags & 0xcd5));
    } else if (sig == SIGFPE) {
      printf("XM %x ", fault_mxcsr);
      print_bytes(fault_xmm0, 16);
      printf("\n");
    } else {
      printf("%s\n", sig == SIGILL ? "UD" : "SEGV");
    }
  }
  return 0;
}
