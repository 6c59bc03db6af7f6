// bench/syscall_cost.cpp: one write(2) of one byte to /dev/null, three ways, per call.
//
// Chapter 3 reaches the OS three ways; this measures what one call costs each way:
//   raw_syscall_write   ch03-raw-syscalls' raw_write: the `syscall` (x86-64) or `svc #0`
//                       (ARM64) instruction in inline assembly. The build compiles that
//                       example's own raw_write_linux_<cpu>.cpp into this program, so this
//                       is the book's code, not a copy.
//   libc_write          libc's write, through ch03-ffi's hand-written declaration
//                       (foreign_unix.h, included as it is): a call into the shared library,
//                       which makes the same system call.
//   fwrite_fflush       std::fwrite of the byte into stdio's buffer, then std::fflush, which
//                       hands the buffer to write(2): the C library's buffered path, forced
//                       to make one system call per byte.
// /dev/null accepts every byte and does nothing with it, so what is left is the cost of
// getting into the kernel and back. Google Benchmark picks the number of calls and reports
// the time per call.
//
// Usage:    bench-syscall-cost [Google Benchmark options, e.g. --benchmark_repetitions=5]
//           (--help lists them; as every program here, an unknown option exits 2)
// Platform: Linux x86-64 and ARM64 (the raw variants that exist for Linux).
//
// What to watch for: raw_syscall_write and libc_write within a few percent of each other
// (libc wraps the same instruction in a function call, with its errno convention and its
// thread-cancellation check); fwrite_fflush above both (stdio's bookkeeping, then the
// same write).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "foreign_unix.h"  // ch03-ffi: `long write(int, const void*, unsigned long)`, by hand
#include "raw_write.h"     // ch03-raw-syscalls: `long raw_write(int, const char*, unsigned long)`

namespace {

const char byte = 'x';

int open_dev_null() {
    const int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        std::fprintf(stderr, "bench-syscall-cost: open /dev/null: %s\n", std::strerror(errno));
        std::exit(1);
    }
    return fd;
}

void close_or_fail(int fd) {
    if (close(fd) != 0) {
        std::fprintf(stderr, "bench-syscall-cost: close: %s\n", std::strerror(errno));
        std::exit(1);
    }
}

void raw_syscall_write(benchmark::State& state) {
    const int fd = open_dev_null();
    for (auto _ : state) {
        const long result = raw_write(fd, &byte, 1);
        if (result != 1) {  // The kernel's error comes back as -errno in the result.
            state.SkipWithError(std::strerror(static_cast<int>(-result)));
            break;
        }
    }
    close_or_fail(fd);
}
BENCHMARK(raw_syscall_write);

void libc_write(benchmark::State& state) {
    const int fd = open_dev_null();
    for (auto _ : state) {
        if (write(fd, &byte, 1) != 1) {  // -1, with the reason in errno
            state.SkipWithError(std::strerror(errno));
            break;
        }
    }
    close_or_fail(fd);
}
BENCHMARK(libc_write);

void fwrite_fflush(benchmark::State& state) {
    std::FILE* file = std::fopen("/dev/null", "w");
    if (file == nullptr) {
        std::fprintf(stderr, "bench-syscall-cost: fopen /dev/null: %s\n", std::strerror(errno));
        std::exit(1);
    }
    for (auto _ : state) {
        if (std::fwrite(&byte, 1, 1, file) != 1 || std::fflush(file) != 0) {
            state.SkipWithError(std::strerror(errno));
            break;
        }
    }
    if (std::fclose(file) != 0) {
        std::fprintf(stderr, "bench-syscall-cost: fclose: %s\n", std::strerror(errno));
        std::exit(1);
    }
}
BENCHMARK(fwrite_fflush);

}  // namespace

// Google Benchmark's own main (BENCHMARK_MAIN) answers an unknown option with exit 1 and
// knows no -h. This one follows the workspace's convention: --help (or -h) prints the
// usage and Google Benchmark's options to standard output and exits 0; an option that
// Google Benchmark did not take (unknown, or a bad value) is named on standard error with
// the usage, and the exit status is 2.
namespace {

const char* const usage =
    "usage: bench-syscall-cost [--benchmark_OPTION=VALUE ...]\n"
    "One write(2) of one byte to /dev/null, three ways, timed by Google Benchmark.\n"
    "  --help  this text, then Google Benchmark's options\n";

void print_usage() {
    std::fputs(usage, stdout);
    benchmark::PrintDefaultHelp();
}

}  // namespace

int main(int argc, char** argv) {
    for (int index = 1; index < argc; ++index) {
        const std::string_view argument = argv[index];
        if (argument == "--help" || argument == "-h") {
            print_usage();
            return 0;
        }
    }
    benchmark::Initialize(&argc, argv, print_usage);  // Removes the options it took.
    if (argc > 1) {
        std::fprintf(stderr, "bench-syscall-cost: unknown option or bad value '%s'\n%s", argv[1],
                     usage);
        return 2;
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
