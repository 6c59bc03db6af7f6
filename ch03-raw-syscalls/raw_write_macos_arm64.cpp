// ch03-raw-syscalls/raw_write_macos_arm64.cpp: write(2) as a raw system call on macOS, M-series.
//
// macOS ARM64 system call convention (XNU): x16 = system call number (4 is write, the BSD
// number, with no class prefix on ARM64), arguments in x0..x2, `svc #0x80` enters the
// kernel (the kernel ignores the immediate, but 0x80 is what Apple's libSystem uses).
// As on Intel Macs, an error is signalled by the carry flag, with the positive errno in
// x0: we turn that into -errno, as Linux reports it. And as on Intel Macs, the kernel
// returns a second value: it writes x1 on the way back (arm_prepare_u64_syscall_return,
// bsd/dev/arm/systemcalls.c), so x1 is not the address any more after the call, and the
// asm says so ("+r"): a compiler told it was an input only could use x1 afterwards.
//
// Apple does not promise these numbers stay the same (only libSystem is the stable
// interface). The build checks this file with clang for arm64-apple-macos11 on Linux; it
// runs on an Apple-silicon Mac.
#include "raw_write.h"

long raw_write(int fd, const char* data, unsigned long length) {
    register long x16 asm("x16") = 4;              // system call 4 is write on macOS
    register long x0 asm("x0") = fd;               // file descriptor (1 is stdout)
    register const char* x1 asm("x1") = data;      // address of the bytes to write
    register unsigned long x2 asm("x2") = length;  // number of bytes
    long failed;                                   // the carry flag after the call
    asm volatile(
        "svc #0x80\n\t"       // supervisor call: enter the kernel
        "cset %[failed], cs"  // failed = carry set ? 1 : 0
        : "+r"(x0),           // x0 out: bytes written, or errno
          [failed] "=r"(failed),
          "+r"(x1)           // x1 in: the address; out: the kernel's second value
        : "r"(x16), "r"(x2)  // the call number; the number of bytes
        : "cc", "memory");   // flags change; the kernel reads the buffer
    return failed ? -x0 : x0;
}
