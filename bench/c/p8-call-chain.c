/*
 * P8 native reference: guests/call-chain-bench.S's call_chain, assembled into this program and
 * called once with ITER passes. Prints the result (EAX) and the CPU seconds the call took.
 * Usage: p8-call-chain ITER
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

uint32_t call_chain(uint32_t passes);

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  uint32_t passes = (uint32_t)atol(argv[1]);
  struct timespec t0, t1;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
  uint32_t r = call_chain(passes);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
  printf("%u %.9f\n", r, (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
  return 0;
}
