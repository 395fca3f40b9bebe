/*
 * Native oracle for the SSE/MMX layer's differential test (test/sse/native-diff.test.ts): runs
 * one x86-64 instruction on this CPU with given general registers, flags, XMM0-15, MM0-7 and a
 * 256-byte memory window, and prints the resulting state. 64-bit mode only.
 *
 * stdin, one case per line:   CODEHEX R0 .. R15 FLAGS XMMHEX MMHEX MEMHEX
 *   (numbers in hex; XMMHEX 512 digits = XMM0..15, MMHEX 128 digits = MM0..7, MEMHEX 512 digits)
 * stdout, one line per case:  R0 .. R15 FLAGS XMMHEX MMHEX MEMHEX | UD | SEGV | FPE | BUS
 * RSP (R4) is neither loaded nor stored: the instruction under test must not use it.
 * The memory window lives at MEM_BASE and the state at STATE_BASE (both fixed, below 2 GiB), so
 * the generated code addresses them with [disp32] and the instruction can too.
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
#define STATE_BASE 0x30000000UL
#define CODE_BASE 0x31000000UL

struct state {
  uint64_t r[16];       /* 0 */
  uint64_t flags;       /* 128 */
  uint64_t saved_rsp;   /* 136 */
  uint8_t xmm[16][16];  /* 144 */
  uint8_t mm[8][8];     /* 400 */
};
#define OFF_FLAGS 128
#define OFF_RSP 136
#define OFF_XMM 144
#define OFF_MM 400

static struct state *st;
static unsigned char *code;

static unsigned char *emit(unsigned char *p, const char *bytes, int n) { memcpy(p, bytes, (size_t)n); return p + n; }
static unsigned char *emit32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); return p + 4; }

/* [disp32] addressing: ModRM mod=00 rm=100, SIB 0x25, disp32. reg is the low 3 bits. */
static unsigned char *abs_operand(unsigned char *p, int reg, uint32_t addr) {
  *p++ = (unsigned char)(0x04 | ((reg & 7) << 3));
  *p++ = 0x25;
  return emit32(p, addr);
}

/* mov r64, [abs] / mov [abs], r64 */
static unsigned char *mov_gpr(unsigned char *p, int reg, uint32_t addr, int store) {
  *p++ = (unsigned char)(0x48 | (reg >= 8 ? 4 : 0));
  *p++ = store ? 0x89 : 0x8b;
  return abs_operand(p, reg, addr);
}

/* movdqu xmm, [abs] / movdqu [abs], xmm */
static unsigned char *mov_xmm(unsigned char *p, int reg, uint32_t addr, int store) {
  *p++ = 0xf3;
  if (reg >= 8) *p++ = 0x44;
  *p++ = 0x0f; *p++ = store ? 0x7f : 0x6f;
  return abs_operand(p, reg, addr);
}

/* movq mm, [abs] / movq [abs], mm */
static unsigned char *mov_mm(unsigned char *p, int reg, uint32_t addr, int store) {
  *p++ = 0x0f; *p++ = store ? 0x7f : 0x6f;
  return abs_operand(p, reg, addr);
}

static void build(const unsigned char *insn, int n) {
  uint32_t S = (uint32_t)STATE_BASE;
  unsigned char *p = code;
  p = emit(p, "\x53\x55\x41\x54\x41\x55\x41\x56\x41\x57", 10);   /* push rbx rbp r12-r15 */
  p = mov_gpr(p, 4, S + OFF_RSP, 1);
  for (int i = 0; i < 16; i++) p = mov_xmm(p, i, S + OFF_XMM + 16 * (uint32_t)i, 0);
  for (int i = 0; i < 8; i++) p = mov_mm(p, i, S + OFF_MM + 8 * (uint32_t)i, 0);
  p = emit(p, "\xff\x34\x25", 3); p = emit32(p, S + OFF_FLAGS); p = emit(p, "\x9d", 1); /* push [flags]; popfq */
  for (int i = 0; i < 16; i++) if (i != 4) p = mov_gpr(p, i, S + 8 * (uint32_t)i, 0);
  p = emit(p, (const char *)insn, n);
  p = emit(p, "\x9c\x8f\x04\x25", 4); p = emit32(p, S + OFF_FLAGS);  /* pushfq; pop [flags] */
  for (int i = 0; i < 16; i++) if (i != 4) p = mov_gpr(p, i, S + 8 * (uint32_t)i, 1);
  for (int i = 0; i < 16; i++) p = mov_xmm(p, i, S + OFF_XMM + 16 * (uint32_t)i, 1);
  for (int i = 0; i < 8; i++) p = mov_mm(p, i, S + OFF_MM + 8 * (uint32_t)i, 1);
  p = emit(p, "\x0f\x77", 2);                                         /* emms */
  p = emit(p, "\x41\x5f\x41\x5e\x41\x5d\x41\x5c\x5d\x5b\xfc\xc3", 12); /* pops; cld; ret */
  __builtin___clear_cache((char *)code, (char *)p);
}

static sigjmp_buf env;
static void on_signal(int sig) { siglongjmp(env, sig); }

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Parses exactly n bytes of hex from *s (advancing it); -1 on malformed input. */
static int parse_bytes(char **s, unsigned char *out, int n) {
  while (**s == ' ') (*s)++;
  for (int i = 0; i < n; i++) {
    int h = hexval((*s)[0]), l = h < 0 ? -1 : hexval((*s)[1]);
    if (h < 0 || l < 0) return -1;
    out[i] = (unsigned char)(h * 16 + l);
    *s += 2;
  }
  return 0;
}

static void put_hex(const unsigned char *b, int n) {
  static const char digits[] = "0123456789abcdef";
  for (int i = 0; i < n; i++) { putchar(digits[b[i] >> 4]); putchar(digits[b[i] & 15]); }
}

int main(void) {
  unsigned char *mem = mmap((void *)MEM_BASE, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  st = mmap((void *)STATE_BASE, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  code = mmap((void *)CODE_BASE, 8192, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  if (mem == MAP_FAILED || st == MAP_FAILED || code == MAP_FAILED) { perror("mmap"); return 2; }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_NODEFER;
  sigaction(SIGSEGV, &sa, NULL); sigaction(SIGILL, &sa, NULL);
  sigaction(SIGFPE, &sa, NULL); sigaction(SIGBUS, &sa, NULL);

  static char line[8192];
  while (fgets(line, sizeof line, stdin)) {
    char *s = line;
    unsigned char insn[16];
    int n = 0;
    while (hexval(s[0]) >= 0 && hexval(s[1]) >= 0 && n < 15) { insn[n++] = (unsigned char)(hexval(s[0]) * 16 + hexval(s[1])); s += 2; }
    for (int i = 0; i < 16; i++) st->r[i] = strtoull(s, &s, 16);
    st->flags = strtoull(s, &s, 16);
    if (parse_bytes(&s, &st->xmm[0][0], 256) || parse_bytes(&s, &st->mm[0][0], 64) || parse_bytes(&s, mem, MEM_SIZE)) {
      fprintf(stderr, "bad input line\n");
      return 2;
    }
    build(insn, n);
    int sig = sigsetjmp(env, 1);
    if (sig == 0) {
      ((void (*)(void))code)();
    } else {
      __asm__ volatile("emms\n cld" ::: "memory");
      puts(sig == SIGILL ? "UD" : sig == SIGSEGV ? "SEGV" : sig == SIGFPE ? "FPE" : "BUS");
      continue;
    }
    for (int i = 0; i < 16; i++) printf("%llx ", (unsigned long long)st->r[i]);
    printf("%llx ", (unsigned long long)st->flags);
    put_hex(&st->xmm[0][0], 256); putchar(' ');
    put_hex(&st->mm[0][0], 64); putchar(' ');
    put_hex(mem, MEM_SIZE); putchar('\n');
  }
  return 0;
}
