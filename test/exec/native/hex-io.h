/* Hex parsing shared by the native oracles that read "HEX HEX ..." lines on stdin. */
#ifndef TSVISOR_HEX_IO_H
#define TSVISOR_HEX_IO_H

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Bytes from a hex string (up to max, stopping at the first non-pair); -1 on a bad digit. */
static int parse_bytes(const char *s, unsigned char *out, int max) {
  int n = 0;
  while (s[0] && s[1] && n < max) {
    int h = hexval(s[0]), l = hexval(s[1]);
    if (h < 0 || l < 0) return -1;
    out[n++] = (unsigned char)(h * 16 + l);
    s += 2;
  }
  return n;
}

#endif
