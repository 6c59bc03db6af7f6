// tools/without-io-uring: run one program on a machine that seems to have no io_uring.
//
// ch03-io-uring must say in one line that io_uring is missing and exit with its own code
// (4), so that its tests are reported as skipped where the kernel is old, where the sysctl
// kernel.io_uring_disabled forbids it, or in a container whose seccomp profile refuses it.
// None of these can be arranged for one test without root, except the last: this tool
// installs a seccomp filter (seccomp(2)) that answers io_uring_setup with an error, as
// container runtimes' profiles do, then runs COMMAND, which inherits the filter.
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
#include <string_view>

namespace {

// The command line, read here without CLI11, the other tools' parser: ch03-io-uring's and
// ch03-poll's configure steps build this file alone, as the probe of whether a seccomp
// filter can be installed here, where CLI11 would cost a dozen seconds of compiling.
constexpr char usage_text[] =
    "usage: without-io-uring [--error EPERM|ENOSYS] -- COMMAND [ARG...]\n"
    "Runs COMMAND where io_uring_setup fails, as under a container's seccomp profile.\n"
    "  --error EPERM    io_uring forbidden (kernel.io_uring_disabled, Docker's default\n"
    "                   profile): the default\n"
    "  --error ENOSYS   io_uring unknown (a kernel without it, QEMU's user mode)\n";

[[noreturn]] void bad_usage(const std::string& what) {
    std::fprintf(stderr, "without-io-uring: %s\n%s", what.c_str(), usage_text);
    std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
    unsigned error = EPERM;
    int next = 1;  // the next argument to read; the command starts after the "--"
    for (; next < argc && std::string_view(argv[next]) != "--"; ++next) {
        const std::string_view argument = argv[next];
        if (argument == "--help" || argument == "-h") {
            std::fputs(usage_text, stdout);
            return 0;
        }
        if (argument != "--error") {
            bad_usage("unknown option '" + std::string(argument) + "'");
        }
        const std::string_view value = next + 1 < argc ? argv[++next] : "";
        if (value != "EPERM" && value != "ENOSYS") {
            bad_usage("--error takes EPERM or ENOSYS, not '" + std::string(value) + "'");
        }
        error = value == "EPERM" ? EPERM : ENOSYS;
    }
    if (next + 1 >= argc) {
        bad_usage("no COMMAND after --");
    }
    char** const command = argv + next + 1;  // argv ends in a null pointer, as execvp needs

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
    execvp(command[0], command);
    std::fprintf(stderr, "without-io-uring: cannot run %s: %s\n", command[0], std::strerror(errno));
    return 2;
}
