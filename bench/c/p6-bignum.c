/*
 * P6 native reference: guests/bignum-bench.S's bignum_submul, assembled into this program, called
 * ITER times on the same arrays as the guest gets (bench/p6-bignum.bench.ts fills them with the
 * same generator). Prints the FNV-1a hash of res's bytes afterwards, the last borrow's low 32
 * bits, and the CPU seconds the calls took.
 * Usage: p6-bignum ITER
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

uint64_t bignum_submul(uint64_t *res, const uint64_t *s1, int n, uint64_t limb);

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  long iters = atol(argv[1]);
  static uint64_t res[64], s1[64];
  uint8_t *r8 = (uint8_t *)res, *s8 = (uint8_t *)s1;
  uint32_t x = 12345;
  for (int i = 0; i < 64 * 8; i++) {
    x = x * 1103515245u + 12345u;
    s8[i] = x >> 24;
    r8[i] = (x >> 16) & 0xff;
  }
  struct timespec t0, t1;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
  uint64_t borrow = 0;
  for (long i = 0; i < iters; i++) borrow = bignum_submul(res, s1, 64, 0x923456789abcdef1ull);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
  uint32_t h = 2166136261u;
  for (int i = 0; i < 64 * 8; i++) h = (h ^ r8[i]) * 16777619u;
  printf("%u %u %.9f\n", h, (uint32_t)borrow, (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
  return 0;
}
