// ch03-ffi: print a line by calling the OS's C library through a hand-written declaration.
//
// ch03-raw-syscalls talks to the kernel directly; real programs call the OS's stable
// interface instead: libc on Linux and macOS, kernel32.dll on Windows. Here we do that
// through a foreign function interface: the function is declared by hand (foreign_unix.h)
// instead of by including <unistd.h>, which is what every language's FFI does underneath.
//
// Usage:    ch03-ffi
// Platform: Linux, macOS (this file); Windows (main_windows.cpp).
//
// What to watch for: `nm -D --undefined-only ch03-ffi` lists `write`: the program now
// imports the function from libc (the build tests that).
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "foreign_unix.h"
#include "one_option.hpp"  // refuse_arguments: --help, and no arguments

// Writes all of `text` to stdout through libc's write; returns false with errno set.
bool write_all(std::string_view text) {
    while (!text.empty()) {
        const long written = write(standard_output, text.data(), text.size());
        if (written == -1 && errno == EINTR) {
            continue;  // Interrupted by a signal before writing: ask again.
        }
        if (written == -1) {
            return false;
        }
        text.remove_prefix(static_cast<std::size_t>(written));  // A short write: go on.
    }
    return true;
}

// ----------------------------------------------------------------------------------------
// The arguments: none, but --help and a wrong argument are answered as everywhere
// ----------------------------------------------------------------------------------------

constexpr char usage_text[] =
    "usage: ch03-ffi\n"
    "Prints one line through libc's write, declared by hand.\n"
    "Takes no arguments; --help or -h prints this text.\n";

int main(int argc, char** argv) {
    refuse_arguments(argc, argv, "ch03-ffi", usage_text);  // support/one_option.hpp

    if (!write_all("Hello world from syscall!\n")) {
        std::fprintf(stderr, "write: %s\n", std::strerror(errno));
        return 1;
    }
    return 0;
}
