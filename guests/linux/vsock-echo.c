/*
 * vsock-echo: an AF_VSOCK stream tool for the Linux test guest (busybox has no vsock client).
 * Built statically by scripts/linux-guest.mjs and put in the initramfs as /bin/vsock-echo.
 *
 *   vsock-echo listen PORT        accept connections on (any CID, PORT) one after another and echo
 *                                 every byte back until the peer's EOF, then close; one line per
 *                                 connection on stderr: "vsock-echo: echoed N bytes from CID C port P"
 *   vsock-echo connect CID PORT   connect, send stdin then shut down the sending side, and copy all
 *                                 that comes back to stdout until the peer's EOF
 *
 * connect sends from a child process so that sending and receiving never wait on each other (a
 * peer that echoes fills our receive buffer while we still send).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

static void die(const char *what) {
  fprintf(stderr, "vsock-echo: %s: %s\n", what, strerror(errno));
  exit(1);
}

static unsigned parse_u32(const char *s, const char *what) {
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || *s == '\0' || *end != '\0' || v > 0xffffffffUL) {
    fprintf(stderr, "vsock-echo: bad %s '%s'\n", what, s);
    exit(2);
  }
  return (unsigned)v;
}

/* Writes all n bytes; 0 on success. */
static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Copies from until EOF into to; returns the byte count, or -1 on an error. */
static long long copy(int from, int to) {
  static char buf[65536];
  long long total = 0;
  for (;;) {
    ssize_t r = read(from, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) return total;
    if (write_all(to, buf, (size_t)r) < 0) return -1;
    total += r;
  }
}

static void do_listen(unsigned port) {
  int s = socket(AF_VSOCK, SOCK_STREAM, 0);
  if (s < 0) die("socket");
  struct sockaddr_vm addr = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port };
  if (bind(s, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
  if (listen(s, 8) < 0) die("listen");
  fprintf(stderr, "vsock-echo: listening on port %u\n", port);
  for (;;) {
    struct sockaddr_vm peer;
    socklen_t len = sizeof peer;
    int c = accept(s, (struct sockaddr *)&peer, &len);
    if (c < 0) {
      if (errno == EINTR) continue;
      die("accept");
    }
    long long n = copy(c, c);
    if (n < 0) fprintf(stderr, "vsock-echo: echo from CID %u port %u failed: %s\n", peer.svm_cid, peer.svm_port, strerror(errno));
    else fprintf(stderr, "vsock-echo: echoed %lld bytes from CID %u port %u\n", n, peer.svm_cid, peer.svm_port);
    close(c);
  }
}

static int do_connect(unsigned cid, unsigned port) {
  int s = socket(AF_VSOCK, SOCK_STREAM, 0);
  if (s < 0) die("socket");
  /* The default 2 s is short for a guest on an emulated CPU. */
  struct timeval timeout = { .tv_sec = 60 };
  setsockopt(s, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, &timeout, sizeof timeout);
  struct sockaddr_vm addr = { .svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port };
  if (connect(s, (struct sockaddr *)&addr, sizeof addr) < 0) die("connect");
  pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) {
    long long sent = copy(0, s);
    if (sent < 0) die("send");
    if (shutdown(s, SHUT_WR) < 0) die("shutdown");
    fprintf(stderr, "vsock-echo: sent %lld bytes\n", sent);
    _exit(0);
  }
  long long got = copy(s, 1);
  if (got < 0) die("receive");
  int status;
  if (waitpid(child, &status, 0) < 0) die("waitpid");
  fprintf(stderr, "vsock-echo: received %lld bytes\n", got);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "listen") == 0) do_listen(parse_u32(argv[2], "port")); /* never returns */
  if (argc == 4 && strcmp(argv[1], "connect") == 0) return do_connect(parse_u32(argv[2], "CID"), parse_u32(argv[3], "port"));
  fprintf(stderr, "usage: vsock-echo listen PORT | vsock-echo connect CID PORT\n");
  return 2;
}
