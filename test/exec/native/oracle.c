/*
 * Native oracle for the executor tests: runs one x86-64 instruction on this CPU with given
 * registers, flags and a 256-byte memory window, and prints the resulting state.
 *
 * stdin, one case per line:  CODEHEX R0 .. R15 FLAGS MEMHEX   (numbers in hex; MEMHEX 512 digits)
 * stdout, one line per case: R0 .. R15 FLAGS MEMHEX | DE | UD | SEGV
 * RSP (R4) is never loaded or stored: the instruction under test must not use it.
 * The memory window lives at MEM_BASE (fixed), so addresses in registers can point into it.
 *
 * CODEHEX prefixed with "S:" runs it in 64-bit mode with RSP loaded and stored too (the stack
 * is then in the window), from the fixed address STACK_RIP so pushed return addresses are known.
 * CODEHEX prefixed with "32:" runs the instruction in 32-bit compatibility mode (Linux's user
 * code selector 0x23, entered and left with far returns); only EAX..EDI (not ESP) are loaded
 * and stored, and R8..R15 come back unchanged.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define MEM_BASE 0x10000000UL
#define MEM_SIZE 256

#define STACK_CODE 0x20000000UL
#define STACK_RIP (STACK_CODE + 0x800)

struct state { uint64_t r[16]; uint64_t flags; };

extern const unsigned char pro_start[], pro_end[], epi_start[], epi_end[];
__asm__(
  ".text\n"
  ".globl pro_start, pro_end, epi_start, epi_end\n"
  "pro_start:\n"
  " push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
  " push %rdi\n"
  " pushq 128(%rdi)\n popfq\n"
  " mov 0(%rdi),%rax\n mov 8(%rdi),%rcx\n mov 16(%rdi),%rdx\n mov 24(%rdi),%rbx\n"
  " mov 40(%rdi),%rbp\n mov 48(%rdi),%rsi\n"
  " mov 64(%rdi),%r8\n mov 72(%rdi),%r9\n mov 80(%rdi),%r10\n mov 88(%rdi),%r11\n"
  " mov 96(%rdi),%r12\n mov 104(%rdi),%r13\n mov 112(%rdi),%r14\n mov 120(%rdi),%r15\n"
  " mov 56(%rdi),%rdi\n"
  "pro_end:\n"
  "epi_start:\n"
  " pushfq\n push %rdi\n mov 16(%rsp),%rdi\n"
  " popq 56(%rdi)\n popq 128(%rdi)\n"
  " mov %rax,0(%rdi)\n mov %rcx,8(%rdi)\n mov %rdx,16(%rdi)\n mov %rbx,24(%rdi)\n"
  " mov %rbp,40(%rdi)\n mov %rsi,48(%rdi)\n"
  " mov %r8,64(%rdi)\n mov %r9,72(%rdi)\n mov %r10,80(%rdi)\n mov %r11,88(%rdi)\n"
  " mov %r12,96(%rdi)\n mov %r13,104(%rdi)\n mov %r14,112(%rdi)\n mov %r15,120(%rdi)\n"
  " add $8,%rsp\n"
  " pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
  " cld\n ret\n"
  "epi_end:\n");

/* Compatibility-mode runner: state, saved RSP and a stack below 4 GiB, code emitted per case. */
struct state32 { uint64_t r[16]; uint64_t flags; uint64_t saved_rsp; };
static unsigned char *code32;
static struct state32 *st32;

static unsigned char *emit(unsigned char *p, const char *bytes, int n) { memcpy(p, bytes, (size_t)n); return p + n; }
static unsigned char *emit32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); return p + 4; }

/* Builds: 64-bit entry -> far return to 32-bit code -> instruction -> far return to 64-bit exit. */
static void build32(const unsigned char *insn, int n) {
  uint32_t S = (uint32_t)(uintptr_t)st32;
  unsigned char *p = code32;
  p = emit(p, "\x53\x55\x41\x54\x41\x55\x41\x56\x41\x57", 10);   /* push rbx rbp r12-r15 */
  p = emit(p, "\x48\x89\x24\x25", 4); p = emit32(p, S + 136);       /* mov [saved_rsp], rsp */
  p = emit(p, "\xbc", 1); p = emit32(p, S + 4096);                   /* mov esp, top of page */
  unsigned char *push_entry = p + 2 + 1;
  p = emit(p, "\x6a\x23\x68\0\0\0\0\x48\xcb", 9);                 /* push 0x23; push entry; retfq */
  uint32_t entry = (uint32_t)(uintptr_t)p;
  memcpy(push_entry, &entry, 4);
  p = emit(p, "\x6a\x2b\x1f\x6a\x2b\x07", 6);                      /* ds = es = 0x2b (null in 64-bit code) */
  p = emit(p, "\xff\x35", 2); p = emit32(p, S + 128); p = emit(p, "\x9d", 1); /* push [flags]; popfd */
  p = emit(p, "\xa1", 1); p = emit32(p, S + 0);                      /* mov eax, [r0] */
  static const unsigned char ld[] = { 0x0d, 0x15, 0x1d, 0, 0x2d, 0x35, 0x3d };
  for (int i = 1; i < 8; i++) {
    if (i == 4) continue;
    p = emit(p, "\x8b", 1); *p++ = ld[i - 1]; p = emit32(p, S + 8 * (uint32_t)i);
  }
  p = emit(p, (const char *)insn, n);
  p = emit(p, "\x9c\x8f\x05", 3); p = emit32(p, S + 128);           /* pushfd; pop [flags] */
  p = emit(p, "\xa3", 1); p = emit32(p, S + 0);                      /* mov [r0], eax */
  for (int i = 1; i < 8; i++) {
    if (i == 4) continue;
    p = emit(p, "\x89", 1); *p++ = ld[i - 1]; p = emit32(p, S + 8 * (uint32_t)i);
  }
  unsigned char *push_back = p + 2 + 1;
  p = emit(p, "\x6a\x33\x68\0\0\0\0\xcb", 8);                     /* push 0x33; push back; retf */
  uint32_t back = (uint32_t)(uintptr_t)p;
  memcpy(push_back, &back, 4);
  p = emit(p, "\x48\x8b\x24\x25", 4); p = emit32(p, S + 136);       /* mov rsp, [saved_rsp] */
  p = emit(p, "\x41\x5f\x41\x5e\x41\x5d\x41\x5c\x5d\x5b\xfc\xc3", 12); /* pops; cld; ret */
  __builtin___clear_cache((char *)code32, (char *)p);
}

/* 64-bit runner with RSP under test: code emitted at STACK_CODE, the instruction at STACK_RIP. */
static unsigned char *stack_code;

/* mov r64, [abs32] (load) or mov [abs32], r64 (store). */
static unsigned char *mov_abs(unsigned char *p, int reg, uint32_t addr, int store) {
  *p++ = (unsigned char)(0x48 | (reg >= 8 ? 4 : 0));
  *p++ = store ? 0x89 : 0x8b;
  *p++ = (unsigned char)(0x04 | ((reg & 7) << 3));
  *p++ = 0x25;
  return emit32(p, addr);
}

static void build_stack(const unsigned char *insn, int n) {
  uint32_t S = (uint32_t)(uintptr_t)st32;
  unsigned char *p = stack_code;
  p = emit(p, "\x53\x55\x41\x54\x41\x55\x41\x56\x41\x57", 10);   /* push rbx rbp r12-r15 */
  p = mov_abs(p, 4, S + 136, 1);                                      /* save the real rsp */
  p = emit(p, "\xff\x34\x25", 3); p = emit32(p, S + 128); p = emit(p, "\x9d", 1); /* push [flags]; popfq */
  for (int i = 0; i < 16; i++) if (i != 4) p = mov_abs(p, i, S + 8 * (uint32_t)i, 0);
  p = mov_abs(p, 4, S + 32, 0);                                       /* rsp under test, last */
  unsigned char *at = stack_code + 0x800;
  while (p < at) *p++ = 0x90;                                         /* nop sled up to STACK_RIP */
  p = emit(p, (const char *)insn, n);
  p = mov_abs(p, 4, S + 32, 1);
  p = mov_abs(p, 4, S + 136, 0);                                      /* back on the real stack */
  p = emit(p, "\x9c\x8f\x04\x25", 4); p = emit32(p, S + 128);        /* pushfq; pop [flags] */
  for (int i = 0; i < 16; i++) if (i != 4) p = mov_abs(p, i, S + 8 * (uint32_t)i, 1);
  p = emit(p, "\x41\x5f\x41\x5e\x41\x5d\x41\x5c\x5d\x5b\xfc\xc3", 12); /* pops; cld; ret */
  __builtin___clear_cache((char *)stack_code, (char *)p);
}

static sigjmp_buf env;
static void on_signal(int sig) { siglongjmp(env, sig); }

#include "hex-io.h"

int main(void) {
  unsigned char *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  unsigned char *mem = mmap((void *)MEM_BASE, 4096, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (code == MAP_FAILED || mem != (unsigned char *)MEM_BASE) { perror("mmap"); return 2; }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  /* Signals may arrive on the small compatibility-mode stack: handle them on their own stack. */
  static char altstack[1 << 16];
  stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0 };
  sigaltstack(&ss, NULL);
  sa.sa_flags = SA_NODEFER | SA_ONSTACK;
  sigaction(SIGFPE, &sa, NULL);
  sigaction(SIGILL, &sa, NULL);
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);

  code32 = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
  st32 = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
  stack_code = mmap((void *)STACK_CODE, 8192, PROT_READ | PROT_WRITE | PROT_EXEC,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (code32 == MAP_FAILED || (void *)st32 == MAP_FAILED || stack_code != (unsigned char *)STACK_CODE) {
    perror("mmap32"); return 2;
  }

  size_t pro = (size_t)(pro_end - pro_start), epi = (size_t)(epi_end - epi_start);
  static char line[8192];
  char codehex[64], memhex[2 * MEM_SIZE + 8];
  while (fgets(line, sizeof line, stdin)) {
    struct state st;
    unsigned long long v[17];
    int off = 0, used = 0;
    if (sscanf(line, "%63s%n", codehex, &used) != 1) continue;
    off += used;
    for (int i = 0; i < 17; i++) {
      if (sscanf(line + off, "%llx%n", &v[i], &used) != 1) { fprintf(stderr, "bad line\n"); return 2; }
      off += used;
    }
    if (sscanf(line + off, "%520s", memhex) != 1) { fprintf(stderr, "bad mem\n"); return 2; }
    unsigned char insn[16];
    int compat = strncmp(codehex, "32:", 3) == 0, stackmode = strncmp(codehex, "S:", 2) == 0;
    int n = parse_bytes(codehex + (compat ? 3 : stackmode ? 2 : 0), insn, 15);
    if (n <= 0 || parse_bytes(memhex, mem, MEM_SIZE) != MEM_SIZE) { fprintf(stderr, "bad hex\n"); return 2; }
    for (int i = 0; i < 16; i++) st.r[i] = v[i];
    st.flags = v[16] & 0xcd5;            /* arithmetic flags and DF only */
    if (compat || stackmode) {
      for (int i = 0; i < 16; i++) st32->r[i] = st.r[i];
      st32->flags = st.flags;
      if (compat) build32(insn, n); else build_stack(insn, n);
    } else {
      memcpy(code, pro_start, pro);
      memcpy(code + pro, insn, (size_t)n);
      memcpy(code + pro + n, epi_start, epi);
      __builtin___clear_cache((char *)code, (char *)code + pro + n + epi);
    }
    int sig = sigsetjmp(env, 1);
    if (sig == 0) {
      if (compat || stackmode) {
        ((void (*)(void))(compat ? code32 : stack_code))();
        for (int i = 0; i < 16; i++) st.r[i] = compat && i < 8 ? (uint32_t)st32->r[i] : st32->r[i];
        st.flags = st32->flags;
      } else {
        ((void (*)(struct state *))code)(&st);
      }
      for (int i = 0; i < 16; i++) printf("%llx ", (unsigned long long)st.r[i]);
      printf("%llx ", (unsigned long long)(st.flags & 0xcd5));
      for (int i = 0; i < MEM_SIZE; i++) printf("%02x", mem[i]);
      printf("\n");
    } else {
      printf("%s\n", sig == SIGFPE ? "DE" : sig == SIGILL ? "UD" : "SEGV");
    }
  }
  return 0;
}
