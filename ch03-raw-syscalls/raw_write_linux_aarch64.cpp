// ch03-raw-syscalls/raw_write_linux_aarch64.cpp: write(2) as a raw system call on Linux ARM64.
//
// Linux ARM64 system call convention (man 2 syscall, "Architecture calling conventions"):
//   x8 = system call number (64 is write: ARM64 uses the newer generic numbering, not the
//   x86-64 one), arguments in x0..x5, `svc #0` enters the kernel, the result comes back in
//   x0: a count, or -errno. Nothing else is clobbered.
#include "raw_write.h"

long raw_write(int fd, const char* data, unsigned long length) {
    // Local register variables pin each value to the register the kernel reads it from.
    register long x8 asm("x8") = 64;               // system call 64 is write on ARM64
    register long x0 asm("x0") = fd;               // file descriptor (1 is stdout)
    register const char* x1 asm("x1") = data;      // address of the bytes to write
    register unsigned long x2 asm("x2") = length;  // number of bytes
    asm volatile("svc #0"                          // supervisor call: enter the kernel
                 : "+r"(x0)                        // x0 out: bytes written, or -errno
                 : "r"(x8), "r"(x1), "r"(x2)
                 : "memory");  // the kernel reads the buffer
    return x0;
}
