// ch03-poll/test_platform_posix.cpp: test_platform.hpp on Linux, macOS and the BSDs.
#include <netinet/in.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <cerrno>
#include <csignal>

#include "test_platform.hpp"

std::string raise_descriptor_limit(std::size_t wanted) {
    rlimit limit = {};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        return "getrlimit failed";
    }
    if (limit.rlim_cur >= wanted) {
        return "";
    }
    if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < wanted) {
        return "the hard limit on open descriptors is " + std::to_string(limit.rlim_max) +
               ", below the " + std::to_string(wanted) + " needed";
    }
    limit.rlim_cur = wanted;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
        return "setrlimit failed";
    }
    return "";
}

bool start_refused_connect(Socket& connecting, Socket& port_holder) {
    const int holder = socket(AF_INET, SOCK_STREAM, 0);
    if (holder < 0) {
        return false;
    }
    port_holder = Socket(static_cast<RawSocket>(holder));
    sockaddr_in address = {};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;  // any free port: tests never use a fixed one
    socklen_t size = sizeof address;
    auto* generic = reinterpret_cast<sockaddr*>(&address);
    if (bind(holder, generic, size) != 0 || getsockname(holder, generic, &size) != 0) {
        return false;
    }
    std::string error;
    connecting = start_connect("127.0.0.1", std::to_string(ntohs(address.sin_port)), error);
    return connecting.is_open();
}

long refused_code() {
    return ECONNREFUSED;
}
long reset_code() {
    return ECONNRESET;
}

bool queue_not_allowed(long os_error) {
    return os_error == ENOSYS || os_error == EPERM;
}

namespace {
std::atomic<bool> signal_arrived = false;
pthread_t polling_thread;
struct sigaction previous_action = {};
extern "C" void note_signal(int) {
    signal_arrived = true;
}
}  // namespace

std::string SignalDuringPoll::why_not() {
    return "";
}

SignalDuringPoll::SignalDuringPoll() {
    signal_arrived = false;
    polling_thread = pthread_self();
    struct sigaction action = {};
    action.sa_handler = note_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;  // no SA_RESTART: the interrupted call returns EINTR
    sigaction(SIGUSR1, &action, &previous_action);
}

SignalDuringPoll::~SignalDuringPoll() {
    sigaction(SIGUSR1, &previous_action, nullptr);
}

void SignalDuringPoll::interrupt() {
    pthread_kill(polling_thread, SIGUSR1);
}

bool SignalDuringPoll::delivered() const {
    return signal_arrived;
}
