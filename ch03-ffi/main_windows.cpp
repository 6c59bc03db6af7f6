// ch03-ffi: print a line by calling kernel32.dll through hand-written declarations.
//
// The Windows variant of ch03-ffi (main_unix.cpp is the Unix one). Windows has no stable
// system calls (see ch03-raw-syscalls); its stable interface is the documented functions
// of kernel32.dll. We declare them by hand (foreign_windows.h) and call them: GetStdHandle
// for stdout, then WriteConsoleW, which takes UTF-16 text, as the book does.
//
// Usage:    ch03-ffi.exe
// Platform: Windows (MinGW-w64 or MSVC); on Linux it runs under Wine.
//
// What to watch for: WriteConsoleW works only on a real console. When stdout is a pipe or
// a file (redirected, or captured by a test runner), it fails with "The handle is
// invalid"; real Windows programs then write bytes with WriteFile, and so do we.
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "foreign_windows.h"
#include "one_option.hpp"  // refuse_arguments: --help, and no arguments

// Prints the system's text for an error code, as Windows itself words it.
int fail(const char* call) {
    const unsigned long error = GetLastError();
    char text[512] = "";
    FormatMessageA(format_message_from_system | format_message_ignore_inserts, nullptr, error, 0,
                   text, sizeof text, nullptr);
    std::fprintf(stderr, "%s failed (error %lu): %s\n", call, error, text);
    return 1;
}

// ----------------------------------------------------------------------------------------
// The arguments: none, but --help and a wrong argument are answered as everywhere
// ----------------------------------------------------------------------------------------

constexpr char usage_text[] =
    "usage: ch03-ffi\n"
    "Prints one line through kernel32's WriteConsoleW or WriteFile, declared by hand.\n"
    "Takes no arguments; --help or -h prints this text.\n";

int main(int argc, char** argv) {
    refuse_arguments(argc, argv, "ch03-ffi", usage_text);  // support/one_option.hpp

    constexpr std::u16string_view message_utf16 = u"Hello world from syscall!\n";
    constexpr std::string_view message_utf8 = "Hello world from syscall!\n";

    void* const output = GetStdHandle(standard_output_handle);
    if (output == invalid_handle || output == nullptr) {
        return fail("GetStdHandle");
    }

    unsigned long console_mode = 0;
    if (GetConsoleMode(output, &console_mode) != 0) {
        // A console: hand it UTF-16 characters, as the book does.
        unsigned long characters_written = 0;
        if (WriteConsoleW(output, message_utf16.data(), message_utf16.size(), &characters_written,
                          nullptr) == 0) {
            return fail("WriteConsoleW");
        }
        if (characters_written != message_utf16.size()) {
            std::fprintf(stderr, "WriteConsoleW wrote %lu of %zu characters\n", characters_written,
                         message_utf16.size());
            return 1;
        }
        return 0;
    }

    // Not a console (a pipe or a file): write the UTF-8 bytes with WriteFile.
    std::string_view rest = message_utf8;
    while (!rest.empty()) {
        unsigned long bytes_written = 0;
        if (WriteFile(output, rest.data(), static_cast<unsigned long>(rest.size()), &bytes_written,
                      nullptr) == 0) {
            return fail("WriteFile");
        }
        rest.remove_prefix(bytes_written);  // A short write: go on from there.
    }
    return 0;
}
