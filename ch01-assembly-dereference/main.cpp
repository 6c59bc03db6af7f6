// ch01-assembly-dereference: what a pointer is to the CPU, and what happens when it is bad.
//
// The book's first example: read a value through a pointer with one machine instruction
// written in inline assembly (x86-64: `mov` from memory; ARM64: `ldr`). Given a good
// pointer it prints 100. Given the address 99999999999999, where no page is mapped, the
// CPU's memory management unit raises a page fault, the OS finds no mapping for the
// address, and it stops the process: SIGSEGV on Linux and macOS, an access violation
// (exception 0xC0000005) on Windows. (On macOS the fault is first a Mach exception,
// EXC_BAD_ACCESS with KERN_INVALID_ADDRESS, which XNU's ux_exception turns into SIGSEGV;
// a mapped page that may not be read would be KERN_PROTECTION_FAILURE and SIGBUS.)
//
// Usage:
//   ch01-assembly-dereference                 prints 100
//   ch01-assembly-dereference --bad-pointer   dereferences 99999999999999 and dies
//   ch01-assembly-dereference --show-fault    the same, but first installs a handler that
//                                             prints the faulting address the OS reports
//
// Platforms: x86-64 and ARM64 (Linux, macOS, Windows with MinGW-w64). Other CPUs are
// skipped by the build: the assembly is CPU-specific.
//
// What to watch for: with --bad-pointer the shell reports "Segmentation fault"; nothing
// after the dereference runs. With --show-fault the handler's line shows the same address
// the program tried to read: the OS knows exactly which access failed.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#if defined(_WIN32)
#include <windows.h>
#else
#include <signal.h>
#include <unistd.h>
#endif

// ----------------------------------------------------------------------------------------
// The dereference: one load instruction, per CPU
// ----------------------------------------------------------------------------------------

#if defined(__x86_64__)
std::uint64_t dereference(const std::uint64_t* pointer) {
    std::uint64_t result;
    // The book writes this in Intel syntax as `mov {0}, [{1}]`; GNU assembler's default is
    // AT&T syntax, where the source comes first and `(reg)` means "the memory at reg".
    asm volatile("movq (%[pointer]), %[result]"  // result = the 8 bytes at address pointer
                 : [result] "=r"(result)         // output: any general-purpose register
                 : [pointer] "r"(pointer)        // input: the address, in a register
                 : "memory");                    // it reads memory the compiler cannot see
    return result;
}
#elif defined(__aarch64__)
std::uint64_t dereference(const std::uint64_t* pointer) {
    std::uint64_t result;
    // ARM64 is a load/store architecture: only `ldr` and `str` touch memory.
    asm volatile("ldr %[result], [%[pointer]]"  // result = the 8 bytes at address pointer
                 : [result] "=r"(result)        // output: any general-purpose X register
                 : [pointer] "r"(pointer)       // input: the address, in an X register
                 : "memory");                   // it reads memory the compiler cannot see
    return result;
}
#else
#error "ch01-assembly-dereference has assembly for x86-64 and ARM64 only"
#endif

// ----------------------------------------------------------------------------------------
// --show-fault: let the program see the fault the OS reports, then die of it anyway
// ----------------------------------------------------------------------------------------

#if defined(_WIN32)
// Windows reports the fault as a structured exception; a vectored handler sees it first.
LONG CALLBACK report_access_violation(EXCEPTION_POINTERS* exception) {
    const EXCEPTION_RECORD* record = exception->ExceptionRecord;
    if (record->ExceptionCode == EXCEPTION_ACCESS_VIOLATION) {
        // ExceptionInformation[0] is 0 for a read, 1 for a write; [1] is the address.
        std::printf("The OS reports: access violation (0x%08lX) reading address 0x%llx\n",
                    static_cast<unsigned long>(record->ExceptionCode),
                    static_cast<unsigned long long>(record->ExceptionInformation[1]));
        std::fflush(stdout);
    }
    return EXCEPTION_CONTINUE_SEARCH;  // Not handled: Windows ends the process.
}

void install_fault_reporter() {
    if (AddVectoredExceptionHandler(1, report_access_violation) == nullptr) {
        std::fprintf(stderr, "AddVectoredExceptionHandler failed (error %lu)\n", GetLastError());
        std::exit(1);
    }
}
#else
// A signal handler may call only async-signal-safe functions: write(2) yes, printf no.
void write_text(std::string_view text) {
    [[maybe_unused]] const ssize_t written = write(STDOUT_FILENO, text.data(), text.size());
}

void report_segfault(int, siginfo_t* info, void*) {
    // si_addr is the address whose access faulted, as the kernel saw it.
    char hex[2 + 16 + 1] = "0x";
    auto address = reinterpret_cast<std::uintptr_t>(info->si_addr);
    int digits = 0;
    for (std::uintptr_t rest = address; rest != 0 || digits == 0; rest >>= 4) {
        ++digits;
    }
    for (int i = digits - 1; i >= 0; --i, address >>= 4) {
        hex[2 + i] = "0123456789abcdef"[address & 0xf];
    }
    hex[2 + digits] = '\0';
    write_text("The OS reports: SIGSEGV (invalid memory reference) at address ");
    write_text(hex);
    write_text("\n");
    // SA_RESETHAND put the default action back, so when this handler returns, the load
    // runs again, faults again, and this time the OS ends the process with SIGSEGV.
}

void install_fault_reporter() {
    struct sigaction action = {};
    action.sa_sigaction = report_segfault;
    action.sa_flags = SA_SIGINFO | SA_RESETHAND;  // siginfo wanted; one shot only
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGSEGV, &action, nullptr) != 0) {
        std::perror("sigaction");
        std::exit(1);
    }
}
#endif

// The book's bad pointer: an address in user space (below the 128 TiB that x86-64 and ARM64
// Linux, macOS and Windows give a process) where nothing is mapped.
constexpr std::uintptr_t bad_address = 99999999999999;

int main(int argc, char** argv) {
    constexpr char usage[] =
        "usage: ch01-assembly-dereference [--bad-pointer | --show-fault]\n"
        "Reads a value through a pointer with one instruction of inline assembly.\n"
        "  (no option)    through a good pointer: prints 100\n"
        "  --bad-pointer  through the address 99999999999999: the OS ends the process\n"
        "  --show-fault   the same, after printing the faulting address the OS reports\n"
        "  --help         this text\n";
    const std::string_view mode = argc > 1 ? argv[1] : "";
    if (mode == "--help" || mode == "-h") {
        std::fputs(usage, stdout);
        return 0;
    }
    if (argc > 2 || (mode != "" && mode != "--bad-pointer" && mode != "--show-fault")) {
        std::fprintf(stderr, "ch01-assembly-dereference: unknown option '%s'\n%s",
                     argc > 2 ? argv[2] : argv[1], usage);
        return 2;
    }

    std::uint64_t value = 100;
    const std::uint64_t* pointer = &value;
    if (mode != "") {
        pointer = reinterpret_cast<const std::uint64_t*>(bad_address);
        std::printf("Dereferencing address %llu (0x%llx)...\n",
                    static_cast<unsigned long long>(bad_address),
                    static_cast<unsigned long long>(bad_address));
        // Flush now: a process killed by a signal never flushes its stdio buffers, and when
        // stdout is a pipe the line above would be lost with the process.
        std::fflush(stdout);
    }
    if (mode == "--show-fault") {
        install_fault_reporter();
    }

    const std::uint64_t x = dereference(pointer);
    std::printf("%llu\n", static_cast<unsigned long long>(x));
    return 0;
}
