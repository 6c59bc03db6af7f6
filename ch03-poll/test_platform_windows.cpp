// ch03-poll/test_platform_windows.cpp: test_platform.hpp on Windows, which has neither a
// limit on open sockets that 2,000 would reach nor POSIX signals.
#include "test_platform.hpp"

std::string raise_descriptor_limit(std::size_t) {
    return "";
}

bool queue_not_allowed(long) {
    return false;
}

std::string SignalDuringPoll::why_not() {
    return "Windows has no POSIX signals: nothing interrupts a wait there";
}

SignalDuringPoll::SignalDuringPoll() = default;
SignalDuringPoll::~SignalDuringPoll() = default;
void SignalDuringPoll::interrupt() {}
bool SignalDuringPoll::delivered() const {
    return false;
}
