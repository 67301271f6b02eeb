/** A static C program that tries each dangerous syscall and prints `name rc errno`, one a line. */
export const SYSCALL_PROBE_C = String.raw`
#define _GNU_SOURCE
#include <errno.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

static void report(const char *name, long rc) { printf("%s %ld %d\n", name, rc, rc < 0 ? errno : 0); fflush(stdout); }

int main(void) {
  errno = 0; report("ptrace", ptrace(PTRACE_TRACEME, 0, 0, 0));
  errno = 0; report("unshare", unshare(CLONE_NEWUSER | CLONE_NEWNS));
  errno = 0; report("mount", mount("none", "/tmp", "tmpfs", 0, 0));
  errno = 0; report("keyctl", syscall(SYS_keyctl, 1, 0, 0, 0, 0));
  errno = 0; report("bpf", syscall(SYS_bpf, 0, 0, 0));
  errno = 0; report("userfaultfd", syscall(SYS_userfaultfd, 0));
  struct perf_event_attr attr; memset(&attr, 0, sizeof attr); attr.size = sizeof attr; attr.type = PERF_TYPE_SOFTWARE; attr.config = PERF_COUNT_SW_CPU_CLOCK;
  errno = 0; report("perf_event_open", syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0));
  char c = 'x';
  errno = 0; report("tiocsti", ioctl(0, TIOCSTI, &c));
  return 0;
}
`;
