// tools/without-io-uring: run one program on a machine that seems to have no io_uring.
//
// ch03-io-uring must say in one line that io_uring is missing and exit with its own code
// (4), so that its tests are reported as skipped where the kernel is old, where the sysctl
// kernel.io_uring_disabled forbids it, or in a container whose seccomp profile refuses it.
// None of these can be arranged for one test without root, except the last: this tool
// installs a seccomp filter (seccomp(2)) that answers io_uring_setup with an error, as
// container runtimes' profiles do, then runs COMMAND, which inherits the filter.
//
// Usage:
//   without-io-uring [--error EPERM|ENOSYS] -- COMMAND [ARG...]
//   without-io-uring --help
//
// Runs on Linux only (seccomp is Linux's).
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

// Relative to this file, not through the build: ch03-io-uring's and ch03-poll's configure
// steps build this file alone (CLI11 from the compiler's own folders), as the probe of
// whether a seccomp filter can be installed here.
#include "command-line/command_line.hpp"

int main(int argc, char** argv) {
    std::string error_name = "EPERM";
    std::vector<std::string> command;
    CLI::App app{"Runs COMMAND where io_uring_setup fails, as under a container's seccomp profile.",
                 "without-io-uring"};
    app.add_option("--error", error_name,
                   "EPERM: io_uring forbidden (kernel.io_uring_disabled, Docker's\n"
                   "default profile); ENOSYS: io_uring unknown (a kernel without it,\n"
                   "QEMU's user mode)")
        ->capture_default_str()
        ->check(CLI::IsMember({"EPERM", "ENOSYS"}));
    app.add_option("COMMAND", command, "the program to run and its arguments, after --")
        ->required();
    parse_command_line(app, argc, argv);
    const unsigned error = error_name == "EPERM" ? EPERM : ENOSYS;

    // A classic BPF program, run by the kernel on every system call of this process and its
    // children: load the call's number; if it is io_uring_setup, fail it with `error`; let
    // everything else through. (The architecture is not checked: the tests run the program
    // natively, so its calls are this machine's.)
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | error),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    const sock_fprog program = {static_cast<unsigned short>(sizeof filter / sizeof filter[0]),
                                filter};
    // Without root, a filter may only be installed by a process that gives up gaining
    // privileges through exec (set-user-ID programs): seccomp(2).
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        std::perror("without-io-uring: prctl(PR_SET_NO_NEW_PRIVS)");
        return 2;
    }
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
        std::perror("without-io-uring: prctl(PR_SET_SECCOMP)");
        return 2;
    }
    std::vector<char*> command_argv;
    for (std::string& argument : command) {
        command_argv.push_back(argument.data());
    }
    command_argv.push_back(nullptr);
    execvp(command_argv[0], command_argv.data());
    std::fprintf(stderr, "without-io-uring: cannot run %s: %s\n", command_argv[0],
                 std::strerror(errno));
    return 2;
}
