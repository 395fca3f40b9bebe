/* Output through toyvirt's console: one OUT per byte to port 123. */
#include "smallkern.h"

void putc(char c)
{
	outb(CONSOLE_PORT, (uint8_t)c);
}

void puts(const char *s)
{
	while (*s)
		putc(*s++);
}

void putdec(uint64_t v)
{
	char buf[21];
	int i = sizeof(buf) - 1;

	buf[i] = '\0';
	do {
		buf[--i] = '0' + v % 10;
		v /= 10;
	} while (v != 0);
	puts(&buf[i]);
}

void puthex(uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char buf[19];
	int i = sizeof(buf) - 1;

	buf[i] = '\0';
	do {
		buf[--i] = digits[v & 0xf];
		v >>= 4;
	} while (v != 0);
	buf[--i] = 'x';
	buf[--i] = '0';
	puts(&buf[i]);
}
