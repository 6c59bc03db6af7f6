// ch03-raw-syscalls/raw_write_windows.cpp: why there is no raw system call on Windows.
//
// Windows has system calls too (ntdll.dll executes `syscall` for NtWriteFile), but their
// numbers are not a stable interface: they change between Windows releases, even between
// updates. The stable interface to the OS is the set of documented functions in
// kernel32.dll and friends, so a Windows program calls those, as ch03-ffi does. This
// variant says so and fails, as the book's Windows variant does.
#include <cerrno>
#include <cstdio>

#include "raw_write.h"

long raw_write(int, const char*, unsigned long) {
    std::fputs(
        "We can't. Windows doesn't have a stable syscall ABI: system call numbers change "
        "between Windows versions. Use the documented kernel32 functions instead (see "
        "ch03-ffi).\n",
        stderr);
    return -ENOSYS;
}
