// ch03-raw-syscalls/raw_write.h: the one function each platform variant implements.
//
// raw_write asks the kernel to write `length` bytes at `data` to the file descriptor `fd`
// with one system call made in inline assembly: no libc function is called on the way.
// It returns what the kernel returned: the number of bytes written, or a negative error
// number (-EBADF, -EFAULT, ...), as the Linux kernel itself reports errors.
//
// The build compiles exactly one of the raw_write_*.cpp files, chosen by OS and CPU.
// No system header is included here: the macOS variants are also compiled on Linux, for
// a Mac, to check their assembly (see README.md).
#pragma once

long raw_write(int fd, const char* data, unsigned long length);
