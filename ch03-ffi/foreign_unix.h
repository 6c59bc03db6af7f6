// ch03-ffi/foreign_unix.h: the C library function this example calls, declared by hand.
//
// This is a foreign function interface in its simplest form: we promise the compiler that
// a function named `write` exists somewhere (in libc, linked by default), with C linkage
// (no C++ name mangling) and this signature. The linker finds it; nothing checks that our
// promise is true. check_foreign_unix.cpp does: it includes the system's own <unistd.h>
// next to this file, and a declaration that disagrees with it fails the build.
#pragma once

extern "C" {
// ssize_t write(int fd, const void* buf, size_t count);  (man 2 write)
// On the 64-bit Unix systems we build for (LP64), ssize_t is long and size_t is unsigned
// long. Returns the number of bytes written, or -1 with the reason in errno.
long write(int fd, const void* buffer, unsigned long count);
}

constexpr int standard_output = 1;  // STDOUT_FILENO: file descriptor 1 is stdout
