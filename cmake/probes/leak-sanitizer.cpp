// cmake/probes/leak-sanitizer.cpp: can LeakSanitizer run on this machine?
// (cmake/MachineProbes.cmake)
//
// Built with AddressSanitizer, whose LeakSanitizer checks at exit for memory never freed. It
// stops the program's threads with ptrace to look at their stacks, which QEMU's user mode
// (an ARM64 program run on x86-64) does not provide: there it says so ("LeakSanitizer does
// not work under ptrace") and the program exits 1 however it ended. Nothing leaks here, so
// where LeakSanitizer works, the exit code is 0.
#include <memory>

int main() {
    auto value = std::make_unique<int>(42);
    return *value == 42 ? 0 : 1;
}
