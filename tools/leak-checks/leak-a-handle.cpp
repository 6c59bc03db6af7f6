// tools/leak-checks/leak-a-handle.cpp: opens one handle and never closes it, on purpose.
//
// The control for tools/leak-checks/handle-audit.cpp: the test handle-audit-finds-a-leak
// runs this program with the audit linked in and passes only if the audit names the leaked
// handle. Without it, an audit that saw nothing (as GetProcessHandleCount sees nothing
// under Wine) would let every closes-everything test pass.
// Platform: Windows.
#include <windows.h>

#include <cstdio>
#include <string_view>

int main(int argc, char** argv) {
    // No arguments: --help (or -h) prints the usage; anything else is refused, exit code 2.
    constexpr char usage[] =
        "usage: leak-a-handle\n"
        "Creates an event and leaves its handle open, for the handle audit's own test. Takes no "
        "arguments.\n";
    if (argc > 1) {
        const std::string_view argument = argv[1];
        if (argument == "--help" || argument == "-h") {
            std::fputs(usage, stdout);
            return 0;
        }
        std::fprintf(stderr, "leak-a-handle: takes no arguments, not '%s'\n%s", argv[1], usage);
        return 2;
    }
    const HANDLE event =
        CreateEventW(nullptr, TRUE, FALSE, nullptr);  // manual reset, not set, no name
    if (event == nullptr) {
        std::fprintf(stderr, "leak-a-handle: CreateEventW failed (error %lu)\n", GetLastError());
        return 1;
    }
    std::printf("Opened an event and left it open.\n");
    return 0;  // No CloseHandle(event): that is the leak.
}
