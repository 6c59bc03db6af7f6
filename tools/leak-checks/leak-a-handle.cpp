// tools/leak-checks/leak-a-handle.cpp: opens one handle and never closes it, on purpose.
//
// The control for tools/leak-checks/handle-audit.cpp: the test handle-audit-finds-a-leak
// runs this program with the audit linked in and passes only if the audit names the leaked
// handle. Without it, an audit that saw nothing (as GetProcessHandleCount sees nothing
// under Wine) would let every closes-everything test pass.
// Platform: Windows.
#include <windows.h>

#include <cstdio>

#include "one_option.hpp"  // refuse_arguments: --help, and no arguments

// The arguments: none, but --help and a wrong argument are answered as everywhere.
constexpr char usage_text[] =
    "usage: leak-a-handle\n"
    "Creates an event and leaves its handle open, for the handle audit's own test.\n"
    "Takes no arguments; --help or -h prints this text.\n";

int main(int argc, char** argv) {
    refuse_arguments(argc, argv, "leak-a-handle", usage_text);  // support/one_option.hpp

    const HANDLE event =
        CreateEventW(nullptr, TRUE, FALSE, nullptr);  // manual reset, not set, no name
    if (event == nullptr) {
        std::fprintf(stderr, "leak-a-handle: CreateEventW failed (error %lu)\n", GetLastError());
        return 1;
    }
    std::printf("Opened an event and left it open.\n");
    return 0;  // No CloseHandle(event): that is the leak.
}
