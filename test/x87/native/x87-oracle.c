/*
 * Native oracle for the x87 differential test (test/x87/x87-native.test.ts): runs one x87
 * instruction on this CPU from a given x87 state, RFLAGS and a 128-byte memory window, and
 * prints the state after it. 64-bit mode only.
 *
 * stdin, one case per line:   CODEHEX IMGHEX MEMHEX RFLAGS
 *   IMGHEX: 108-byte FNSAVE image (32-bit protected-mode layout) loaded with FRSTOR first.
 *   MEMHEX: 128 bytes at the address in RDI (the instruction's memory operand is [rdi]).
 * stdout, one line per case:  IMGHEX MEMHEX RAX RFLAGS   (IMGHEX from FNSAVE after the instruction)
 *                             | MF | UD | SEGV           (SIGFPE: #MF at a waiting instruction)
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct box {
  uint8_t img[108]; uint8_t pad0[4];
  uint8_t mem[128];
  uint64_t rflags_in, rax_out, rflags_out;
  uint8_t out[108];
};

/* void run(struct box *b): FRSTOR, flags, RDI = mem, RAX = 0, <case>, then results and FNSAVE. */
extern const unsigned char pro_start[], pro_end[], epi_start[], epi_end[];
__asm__(
  ".text\n"
  ".globl pro_start, pro_end, epi_start, epi_end\n"
  "pro_start:\n"
  " push %rbx\n mov %rdi,%rbx\n"
  " frstor 0(%rbx)\n"
  " lea 112(%rbx),%rdi\n xor %eax,%eax\n"
  " pushq 240(%rbx)\n popfq\n"
  "pro_end:\n"
  "epi_start:\n"
  " pushfq\n popq 256(%rbx)\n mov %rax,248(%rbx)\n"
  " fnsave 264(%rbx)\n"
  " pop %rbx\n cld\n ret\n"
  "epi_end:\n");

static sigjmp_buf env;
static void on_signal(int sig) { siglongjmp(env, sig); }

static int hexval(int c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; }
static size_t unhex(const char *s, uint8_t *out, size_t max) {
  size_t n = 0;
  while (s[0] && s[1] && s[0] != ' ' && n < max) { out[n++] = (uint8_t)(hexval(s[0]) << 4 | hexval(s[1])); s += 2; }
  return n;
}
static void puthex(const uint8_t *b, size_t n) {
  static const char d[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) { putchar(d[b[i] >> 4]); putchar(d[b[i] & 15]); }
}

int main(void) {
  unsigned char *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (code == MAP_FAILED) { perror("mmap"); return 2; }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_NODEFER;
  sigaction(SIGFPE, &sa, NULL);
  sigaction(SIGILL, &sa, NULL);
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);
  static char line[4096];
  static struct box b __attribute__((aligned(64)));
  size_t pro = (size_t)(pro_end - pro_start), epi = (size_t)(epi_end - epi_start);
  while (fgets(line, sizeof line, stdin)) {
    uint8_t insn[16];
    char *p = line;
    size_t n = unhex(p, insn, sizeof insn);
    p = strchr(p, ' ') + 1;
    memset(&b, 0, sizeof b);
    unhex(p, b.img, sizeof b.img);
    p = strchr(p, ' ') + 1;
    unhex(p, b.mem, sizeof b.mem);
    p = strchr(p, ' ') + 1;
    b.rflags_in = strtoull(p, NULL, 16);
    memcpy(code, pro_start, pro);
    memcpy(code + pro, insn, n);
    memcpy(code + pro + n, epi_start, epi);
    __builtin___clear_cache((char *)code, (char *)code + pro + n + epi);
    int sig = sigsetjmp(env, 1);
    if (sig == 0) {
      ((void (*)(struct box *))code)(&b);
      puthex(b.out, sizeof b.out); putchar(' ');
      puthex(b.mem, sizeof b.mem);
      printf(" %llx %llx\n", (unsigned long long)b.rax_out, (unsigned long long)b.rflags_out);
    } else {
      /* The faulting path skipped the epilogue: RBX is callee-saved state of this frame only. */
      __asm__ volatile("fninit");
      puts(sig == SIGFPE ? "MF" : sig == SIGILL ? "UD" : "SEGV");
    }
  }
  return 0;
}
