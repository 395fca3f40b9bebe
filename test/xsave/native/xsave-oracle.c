/*
 * Native oracle for the XSAVE differential test (test/xsave/xsave-native.test.ts): on this CPU,
 * loads a base x87/SSE state with XRSTOR64 (RFBM = 3), optionally runs a second XRSTOR form with
 * a given image and mask, then saves with an XSAVE form and mask into a prefilled 576-byte area,
 * all in one asm statement so no compiler code touches x87/SSE registers in between.
 * 64-bit user mode only; the masks the test passes select bits 0-1 (x87, SSE) only.
 *
 * stdin, one case per line:  BASEHEX RSTHEX RSTMASK RSTOP SAVEOP SAVEMASK PREFILLHEX
 *   RSTOP: 0 xrstor, 1 xrstor64, 2 none;  SAVEOP: 0 xsave, 1 xsave64, 2 xsaveopt, 3 xsaveopt64
 *   masks in hex (EDX:EAX)
 * stdout, one line per case: the 576 bytes after the save, in hex | GP (SIGSEGV: #GP) | UD
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AREA 576
static uint8_t base[1024] __attribute__((aligned(64)));
static uint8_t rst[1024] __attribute__((aligned(64)));
static uint8_t dst[1024] __attribute__((aligned(64)));

#define RST_xrstor(m) "xrstor (%[r])\n"
#define RST_xrstor64(m) "xrstor64 (%[r])\n"
#define RST_none(m) ""
/* base restore with mask 3, optional restore with rmask, save with smask. */
#define CASE(R, S)                                                                        \
  __asm__ volatile("mov $3, %%eax\n xor %%edx, %%edx\n xrstor64 (%[b])\n"                 \
                   "mov %[rl], %%eax\n mov %[rh], %%edx\n" RST_##R(0)                     \
                   "mov %[sl], %%eax\n mov %[sh], %%edx\n" #S " (%[d])\n"                 \
                   :                                                                      \
                   : [b] "r"(base), [r] "r"(rst), [d] "r"(dst), [rl] "r"(rl), [rh] "r"(rh), \
                     [sl] "r"(sl), [sh] "r"(sh)                                           \
                   : "rax", "rdx", "memory")

static sigjmp_buf env;
static void on_signal(int sig) { siglongjmp(env, sig); }

static int hexval(int c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; }
static char *unhex(char *s, uint8_t *out, size_t n) {
  for (size_t i = 0; i < n; i++, s += 2) out[i] = (uint8_t)(hexval(s[0]) << 4 | hexval(s[1]));
  return s + 1;
}
static void puthex(const uint8_t *b, size_t n) {
  static const char d[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) { putchar(d[b[i] >> 4]); putchar(d[b[i] & 15]); }
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_NODEFER;
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGILL, &sa, NULL);
  static char line[8192];
  while (fgets(line, sizeof line, stdin)) {
    char *p = unhex(line, base, AREA);
    p = unhex(p, rst, AREA);
    unsigned long long rmask = strtoull(p, &p, 16);
    int rop = (int)strtol(p, &p, 10), sop = (int)strtol(p, &p, 10);
    unsigned long long smask = strtoull(p, &p, 16);
    unhex(p + 1, dst, AREA);
    uint32_t rl = (uint32_t)rmask, rh = (uint32_t)(rmask >> 32), sl = (uint32_t)smask, sh = (uint32_t)(smask >> 32);
    int sig = sigsetjmp(env, 1);
    if (sig) { puts(sig == SIGILL ? "UD" : "GP"); continue; }
    switch (rop * 4 + sop) {
      case 0: CASE(xrstor, xsave); break;
      case 1: CASE(xrstor, xsave64); break;
      case 2: CASE(xrstor, xsaveopt); break;
      case 3: CASE(xrstor, xsaveopt64); break;
      case 4: CASE(xrstor64, xsave); break;
      case 5: CASE(xrstor64, xsave64); break;
      case 6: CASE(xrstor64, xsaveopt); break;
      case 7: CASE(xrstor64, xsaveopt64); break;
      case 8: CASE(none, xsave); break;
      case 9: CASE(none, xsave64); break;
      case 10: CASE(none, xsaveopt); break;
      case 11: CASE(none, xsaveopt64); break;
      default: fprintf(stderr, "bad ops %d %d\n", rop, sop); return 2;
    }
    puthex(dst, AREA);
    putchar('\n');
  }
  return 0;
}
