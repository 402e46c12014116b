// Runs a command under a seccomp filter that refuses io_uring system calls, as a
// container's seccomp profile does (Docker's default refuses io_uring altogether):
//
//   seccomp-run [--refuse setup,enter,register] [--errno N] [--from-fd N] -- COMMAND [ARGS...]
//
//   --refuse   which of io_uring_setup, io_uring_enter, io_uring_register fail
//              (default: all three)
//   --errno    the error they fail with (default EPERM, 1)
//   --from-fd  refuse enter and register only on descriptors >= N: a probe's ring,
//              made first on a low descriptor, works; a later ring does not
//
// The filter is inherited by every child and thread. Build: cc -O2 -o seccomp-run
// seccomp-run.c (no library needed). x86_64 and aarch64.
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#else
#error "seccomp-run knows x86_64 and aarch64"
#endif

static struct sock_filter program[64];
static unsigned short length = 0;

static void emit(struct sock_filter instruction) { program[length++] = instruction; }

static void load(unsigned offset) { emit((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offset)); }

static void allow(void) { emit((struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)); }

static void refuse(int error) {
    emit((struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((unsigned)error & SECCOMP_RET_DATA)));
}

/// For system call `nr`: refused with `error` (on descriptors >= `from_fd` when that
/// is not negative and the call takes one), else on to the next check.
static void check(unsigned nr, int takes_descriptor, int error, long from_fd) {
    load(offsetof(struct seccomp_data, nr));
    if (from_fd < 0 || !takes_descriptor) {
        emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1));
        refuse(error);
        return;
    }
    emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 4));
    // The descriptor is the first argument; its low 32 bits are enough.
    load(offsetof(struct seccomp_data, args[0]));
    emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (unsigned)from_fd, 0, 1));
    refuse(error);
    allow();
}

int main(int argc, char **argv) {
    const char *calls = "setup,enter,register";
    int error = EPERM;
    long from_fd = -1;
    int index = 1;
    for (; index < argc && strcmp(argv[index], "--") != 0; index += 2) {
        if (index + 1 >= argc) break;
        if (strcmp(argv[index], "--refuse") == 0) {
            calls = argv[index + 1];
        } else if (strcmp(argv[index], "--errno") == 0) {
            error = atoi(argv[index + 1]);
        } else if (strcmp(argv[index], "--from-fd") == 0) {
            from_fd = strtol(argv[index + 1], NULL, 10);
        } else {
            fprintf(stderr, "seccomp-run: unknown option %s\n", argv[index]);
            return 64;
        }
    }
    if (index + 1 >= argc) {
        fprintf(stderr, "usage: seccomp-run [--refuse setup,enter,register] [--errno N] [--from-fd N] -- COMMAND [ARGS...]\n");
        return 64;
    }

    load(offsetof(struct seccomp_data, arch));
    emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0));
    allow();
    if (strstr(calls, "setup")) check(__NR_io_uring_setup, 0, error, from_fd);
    if (strstr(calls, "enter")) check(__NR_io_uring_enter, 1, error, from_fd);
    if (strstr(calls, "register")) check(__NR_io_uring_register, 1, error, from_fd);
    allow();

    struct sock_fprog filter = {length, program};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &filter) != 0) {
        perror("seccomp-run: installing the filter");
        return 1;
    }
    execvp(argv[index + 1], argv + index + 1);
    perror("seccomp-run: exec");
    return 127;
}
