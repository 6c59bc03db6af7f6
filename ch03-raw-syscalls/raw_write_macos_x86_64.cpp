// ch03-raw-syscalls/raw_write_macos_x86_64.cpp: write(2) as a raw system call on macOS, Intel.
//
// macOS x86-64 system call convention (XNU, osfmk/mach/i386/syscall_sw.h):
//   rax = class and number: 0x2000000 marks a BSD (Unix) call, 4 is write, so 0x2000004;
//   arguments in rdi, rsi, rdx as on Linux; `syscall` enters the kernel; rcx and r11 are
//   overwritten by the instruction. Unlike Linux, an error is signalled by the carry flag,
//   and rax then holds the positive errno: we turn that into -errno, as Linux reports it.
//   Unlike Linux too, the kernel writes rdx on the way back: XNU returns two values, in
//   rax and rdx (bsd/dev/i386/systemcalls.c), so rdx is not the length any more after the
//   call, and the asm says so ("+d"): a compiler told it was an input only could use rdx
//   as the length afterwards.
//
// Apple does not promise these numbers stay the same (only libSystem is the stable
// interface), which is why real macOS programs never do this. The build checks this file
// with clang for x86_64-apple-macos11 on Linux; it runs on an Intel Mac.
#include "raw_write.h"

long raw_write(int fd, const char* data, unsigned long length) {
    long result;
    unsigned char failed;  // the carry flag after the call: 1 on error
    asm volatile(
        "syscall\n\t"     // enter the kernel
        "setc %[failed]"  // failed = carry flag
        : "=a"(result),   // rax out: bytes written, or errno if failed
          [failed] "=r"(failed),
          "+d"(length)                 // rdx in: number of bytes; out: the kernel's second value
        : "a"(0x2000004L),             // rax in: BSD class (0x2000000) + 4, write on macOS
          "D"(static_cast<long>(fd)),  // rdi: file descriptor (1 is stdout)
          "S"(data)                    // rsi: address of the bytes to write
        : "rcx", "r11",                // overwritten by the syscall instruction itself
          "cc", "memory");             // flags change; the kernel reads the buffer
    return failed ? -result : result;
}
