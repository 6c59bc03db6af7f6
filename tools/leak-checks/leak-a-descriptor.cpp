// tools/leak-checks/leak-a-descriptor.cpp: opens one descriptor and never closes it, on
// purpose.
//
// The control for the valgrind --track-fds=yes check of the closes-everything tests: the
// test valgrind-fd-check-finds-a-leak runs this program under the same check and passes
// only if valgrind names the leaked descriptor and the call that opened it.
// Platform: Linux and macOS (any POSIX system valgrind runs on).
#include <fcntl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "one_option.hpp"  // refuse_arguments: --help, and no arguments

// The arguments: none, but --help and a wrong argument are answered as everywhere.
constexpr char usage_text[] =
    "usage: leak-a-descriptor\n"
    "Opens /dev/null and leaves it open, for the descriptor check's own test.\n"
    "Takes no arguments; --help or -h prints this text.\n";

int main(int argc, char** argv) {
    refuse_arguments(argc, argv, "leak-a-descriptor", usage_text);  // support/one_option.hpp

    const int descriptor = open("/dev/null", O_RDONLY);
    if (descriptor == -1) {
        std::fprintf(stderr, "leak-a-descriptor: open /dev/null: %s\n", std::strerror(errno));
        return 1;
    }
    std::printf("Opened /dev/null and left it open.\n");
    return 0;  // No close(descriptor): that is the leak.
}
