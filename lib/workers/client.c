/*
 * bin/<type>: what a runtime execs for a plugin of the cni-ts suite. It hands the call to a warm
 * worker (lib/workers/worker.ts) over /run/cni-ts/workers.sock when one answers at once, or execs
 * the Node.js launcher (launch/<type>) itself: same pid, stdin untouched. No plugin logic; libc only.
 *
 * Protocol (lib/workers/protocol.ts): connect; the worker's hello "cni-ts-worker <protocol> <build>\n"
 * within HELLO_WAIT_MS (nothing is sent before it, so a fallback can never run a call twice); one
 * request frame "CNTR" u32 version, u32 body length, body "<type>\0<cwd>\0<umask>\0" then "K=V\0"
 * per environment variable, with stdin, stdout, stderr (and CNI_NETNS opened, when it opens) as
 * SCM_RIGHTS; the worker runs the plugin on those descriptors and answers "exit <code>\n"; any other
 * answer ("fallback", "error ...") comes before anything ran, and the client runs the plugin itself.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#ifndef BUILD_ID
#error "BUILD_ID must be defined (scripts/build.mjs)"
#endif
#define PROTOCOL 1
#define HELLO_WAIT_MS 50 /* CNI_TS_WORKERS_HELLO_MS overrides it (1 to 10000) */
/* when the supervisor is alive (its pid in "<socket>.pid") every worker is busy: a worker is free
   again within milliseconds, far sooner than a Node.js start on a host this busy, so wait up to this */
#define BUSY_WAIT_MS 1000 /* CNI_TS_WORKERS_BUSY_MS overrides it (0 to 10000) */
#define DEFAULT_SOCKET "/run/cni-ts/workers.sock"
#define MAX_BODY (1 << 20)

extern char **environ;

/* This executable's resolved path (every bin/<plugin> is a copy of the client): its name is the plugin
   type, whatever argv[0] or a symlink says, and launch/ is beside its directory. */
static char self[PATH_MAX];
static const char *type = "";

static void find_self(void) {
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return;
  self[n] = '\0';
  char *slash = strrchr(self, '/');
  if (slash) type = slash + 1;
}

/* Runs the call as today: the shell launcher beside this client's directory, which starts Node.js. */
static void fallback(char **argv) {
  char launcher[PATH_MAX + 64];
  char *slash = strrchr(self, '/');
  if (slash) {
    snprintf(launcher, sizeof launcher, "%.*s/../launch/%s", (int)(slash - self), self, type);
    /* the launcher reports argv[0] as the path the runtime used, as when it was the executable itself */
    setenv("CNI_TS_INVOKED_AS", argv[0], 1);
    execv(launcher, argv);
  }
  printf("{\"cniVersion\":\"1.0.0\",\"code\":999,\"msg\":\"cni-ts: cannot start the plugin %s: launcher %s: %s\"}\n", type, slash ? launcher : "(unknown)", strerror(errno));
  exit(1);
}

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Reads one line (with its '\n') of at most `size` bytes, waiting at most `wait_ms` in all (-1: forever). */
static int read_line(int fd, char *line, size_t size, int wait_ms) {
  size_t used = 0;
  line[0] = '\0';
  long end = now_ms() + wait_ms;
  while (used < size - 1) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int left = wait_ms < 0 ? -1 : (int)(end - now_ms());
    if (wait_ms >= 0 && left <= 0) return -1;
    int r = poll(&p, 1, left);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    /* the worker writes nothing after a line until the client answers it, so a larger read takes only this line */
    ssize_t got = read(fd, line + used, size - 1 - used);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return -1;
    used += (size_t)got;
    if (line[used - 1] == '\n') {
      line[used] = '\0';
      return 0;
    }
  }
  return -1;
}

/* A wait in ms from the environment variable `name`, within [min, 10000], else `fallback_ms`. */
static int wait_from_env(const char *name, long min, int fallback_ms) {
  const char *text = getenv(name);
  long ms = text ? strtol(text, NULL, 10) : fallback_ms;
  return ms < min || ms > 10000 ? fallback_ms : (int)ms;
}

/* Whether the supervisor that wrote "<socket>.pid" is alive (so the socket is served, its workers busy). */
static int supervisor_alive(const char *socket_path) {
  char pidfile[PATH_MAX], text[32];
  snprintf(pidfile, sizeof pidfile, "%s.pid", socket_path);
  int fd = open(pidfile, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n <= 0) return 0;
  text[n] = '\0';
  long pid = strtol(text, NULL, 10);
  return pid > 1 && kill((pid_t)pid, 0) == 0;
}

static int append(char *body, size_t *len, const char *text) {
  size_t n = strlen(text) + 1;
  if (*len + n > MAX_BODY) return -1;
  memcpy(body + *len, text, n);
  *len += n;
  return 0;
}

static int send_request(int fd) {
  static char frame[12 + MAX_BODY];
  char *body = frame + 12, cwd[PATH_MAX], umask_text[16];
  size_t len = 0;
  mode_t mask = umask(0);
  umask(mask);
  snprintf(umask_text, sizeof umask_text, "%o", (unsigned)mask);
  if (!getcwd(cwd, sizeof cwd)) strcpy(cwd, "/");
  if (append(body, &len, type) || append(body, &len, cwd) || append(body, &len, umask_text)) return -1;
  for (char **e = environ; *e; e++)
    if (append(body, &len, *e)) return -1;
  uint32_t header[3];
  memcpy(&header[0], "CNTR", 4);
  header[1] = PROTOCOL;
  header[2] = (uint32_t)len;
  memcpy(frame, header, 12);

  int fds[4] = {0, 1, 2, -1}, nfds = 3;
  const char *netns = getenv("CNI_NETNS");
  if (netns && *netns && (fds[3] = open(netns, O_RDONLY | O_CLOEXEC)) >= 0) nfds = 4;
  union {
    char buf[CMSG_SPACE(sizeof fds)];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof control);
  struct iovec iov = {.iov_base = frame, .iov_len = 12 + len};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = CMSG_SPACE(nfds * sizeof(int))};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
  memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
  ssize_t sent = sendmsg(fd, &msg, MSG_NOSIGNAL);
  if (fds[3] >= 0) close(fds[3]);
  if (sent < 0) return -1;
  /* the descriptors went with the first byte; the rest of a long frame follows as plain data */
  for (size_t off = (size_t)sent; off < 12 + len;) {
    ssize_t n = send(fd, frame + off, 12 + len - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    off += (size_t)n;
  }
  return 0;
}

int main(int argc, char **argv) {
  find_self();
  const char *mode = getenv("CNI_TS_WORKERS");
  /* a plugin call has no arguments and a CNI_COMMAND; only root's calls go to root's workers */
  if (argc > 1 || !getenv("CNI_COMMAND") || geteuid() != 0 || (mode && strcmp(mode, "off") == 0)) fallback(argv);

  const char *path = getenv("CNI_TS_WORKERS_SOCKET");
  if (!path || !*path) path = DEFAULT_SOCKET;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) fallback(argv);
  strcpy(addr.sun_path, path);
  /* non-blocking: with the listen queue full (workers wedged) connect fails at once instead of waiting */
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) fallback(argv);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);

  char line[128], expected[128];
  snprintf(expected, sizeof expected, "cni-ts-worker %d %s\n", PROTOCOL, BUILD_ID);
  int hello = read_line(fd, line, sizeof line, wait_from_env("CNI_TS_WORKERS_HELLO_MS", 1, HELLO_WAIT_MS));
  if (hello < 0 && line[0] == '\0' && supervisor_alive(path)) hello = read_line(fd, line, sizeof line, wait_from_env("CNI_TS_WORKERS_BUSY_MS", 0, BUSY_WAIT_MS));
  if (hello < 0 || strcmp(line, expected) != 0) {
    close(fd);
    fallback(argv);
  }
  if (send_request(fd) < 0) {
    close(fd);
    fallback(argv);
  }
  int code;
  if (read_line(fd, line, sizeof line, -1) == 0) {
    if (sscanf(line, "exit %d", &code) == 1) return code;
    /* any other answer ("fallback", "error ...") comes before the plugin ran: run it here */
    close(fd);
    fallback(argv);
  }
  /* the worker died mid-call (killed, out of memory): the runtime may retry; its DEL cleans up */
  printf("{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"cni-ts: the worker serving this %s call stopped before it answered; try again\"}\n", type);
  return 1;
}
