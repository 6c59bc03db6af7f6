// ch03-raw-syscalls/raw_write_linux_x86_64.cpp: write(2) as a raw system call on Linux x86-64.
//
// Linux x86-64 system call convention (the x86-64 System V ABI, appendix A.2):
//   rax = system call number (1 is write), arguments in rdi, rsi, rdx (then r10, r8, r9),
//   `syscall` enters the kernel; the result comes back in rax: a count, or -errno.
//   The CPU itself overwrites rcx (return address) and r11 (saved flags): both are clobbers.
#include "raw_write.h"

long raw_write(int fd, const char* data, unsigned long length) {
    long result;
    asm volatile("syscall"                      // enter the kernel
                 : "=a"(result)                 // rax out: bytes written, or -errno
                 : "a"(1L),                     // rax in: system call 1 is write on Linux x86-64
                   "D"(static_cast<long>(fd)),  // rdi: file descriptor (1 is stdout)
                   "S"(data),                   // rsi: address of the bytes to write
                   "d"(length)                  // rdx: number of bytes
                 : "rcx", "r11",                // overwritten by the syscall instruction itself
                   "memory");                   // the kernel reads the buffer we point to
    return result;
}
