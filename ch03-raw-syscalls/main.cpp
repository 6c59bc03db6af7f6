// ch03-raw-syscalls: print a line with a raw system call instead of libc's write.
//
// The assembly, this example's lesson, is in your platform's raw_write_<os>_<cpu>.cpp
// (raw_write_linux_x86_64.cpp on a Linux PC): read that file first. This one only calls it.
//
// A program asks the OS for everything it cannot do itself, such as writing to the
// terminal, with a system call: it puts a call number and the arguments in registers,
// executes one special instruction (`syscall` on x86-64, `svc` on ARM64), and the CPU
// switches to the kernel. Normally libc does this for us; here we do it by hand.
//
// What goes through libc and what does not: the line "Hello world from raw syscall!" goes
// from raw_write's inline assembly straight to the kernel, with no libc function on the
// way. The rest is an ordinary C++ program on libc: its start-up code calls main and ends
// the process, and <cstdio> prints the usage (--help), a refused argument and the error
// message if the write fails.
//
// Usage:    ch03-raw-syscalls
// Platform: Linux x86-64 and ARM64, macOS x86-64 and ARM64. On Windows it explains why it
//           cannot work (Windows has no stable system call numbers) and exits non-zero.
//
// What to watch for: the line appears although the program never calls printf or write;
// `nm -D --undefined-only ch03-raw-syscalls` shows no `write` (the build tests that).
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "one_option.hpp"  // refuse_arguments: --help, and no arguments
#include "raw_write.h"

// ----------------------------------------------------------------------------------------
// The arguments: none, but --help and a wrong argument are answered as everywhere
// ----------------------------------------------------------------------------------------

constexpr char usage_text[] =
    "usage: ch03-raw-syscalls\n"
    "Prints one line through a system call written in inline assembly.\n"
    "Takes no arguments; --help or -h prints this text.\n";

int main(int argc, char** argv) {
    refuse_arguments(argc, argv, "ch03-raw-syscalls", usage_text);  // support/one_option.hpp

    const char message[] = "Hello world from raw syscall!\n";
    const unsigned long length = sizeof message - 1;  // without the terminating '\0'

    // A write may take fewer bytes than asked (a full pipe, a signal): go on from there.
    unsigned long written = 0;
    while (written < length) {
        const long result = raw_write(1, message + written, length - written);  // 1 = stdout
        if (result == -EINTR) {
            continue;  // Interrupted before anything was written: ask again.
        }
        if (result < 0) {
            // The error path may use libc: what matters is that the message did not.
            std::fprintf(stderr, "raw write failed: %s\n",
                         std::strerror(static_cast<int>(-result)));
            return 1;
        }
        written += static_cast<unsigned long>(result);
    }
    return 0;
}
