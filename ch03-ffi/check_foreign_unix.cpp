// ch03-ffi/check_foreign_unix.cpp: proves foreign_unix.h against the system's headers.
//
// Nothing here runs. This file only compiles if our hand-written declarations agree with
// the system's: C++ refuses two `extern "C"` declarations of one function with different
// types ("conflicting declaration"), so a wrong parameter or return type in
// foreign_unix.h stops the build. The build's ch03-ffi-declaration-mismatch test compiles
// this file with a deliberately wrong declaration to show that it does.
#include <unistd.h>

#include "foreign_unix.h"

#ifdef CH03_FFI_WRONG_DECLARATION
extern "C" int write(int fd, const void* buffer, unsigned long count);  // wrong return type
#endif

// And the type, spelled with the header's own names: a function pointer converts to
// another function pointer type only if the types are the same.
[[maybe_unused]] constexpr ssize_t (*write_as_in_unistd_h)(int, const void*, size_t) = &write;
static_assert(standard_output == STDOUT_FILENO, "stdout is file descriptor 1");
