// ch03-poll/test_platform.hpp: what the contract test needs that differs per OS (signals,
// the limit on open descriptors), so contract_test.cpp has no #if. The build compiles
// test_platform_posix.cpp or test_platform_windows.cpp.
#pragma once

#include <atomic>
#include <cstddef>
#include <string>

#include "sockets.hpp"

// Raises the limit on open descriptors to at least `wanted` where it is lower (the soft
// limit up to the hard one). Returns why it cannot, or "".
std::string raise_descriptor_limit(std::size_t wanted);

// True for the errors that mean "not allowed here" rather than "broken": ENOSYS and EPERM
// on POSIX (io_uring_setup in a container or with io_uring_disabled set); none on Windows.
bool queue_not_allowed(long os_error);

// Starts a non-blocking connect to a loopback port where nothing listens: bound by
// port_holder, which never listens, so the OS refuses the connect and no other program can
// take the port meanwhile. False if a call failed (last_socket_error() says why).
bool start_refused_connect(Socket& connecting, Socket& port_holder);
// The OS's codes for a connection refused and one reset by the peer (ECONNREFUSED,
// ECONNRESET; WSAECONNREFUSED, WSAECONNRESET).
long refused_code();
long reset_code();

// A signal sent to the thread that made this object, with a handler that only notes it: a
// blocking call there is interrupted (EINTR), as a real program's would be by SIGCHLD or
// SIGWINCH. The handler is installed without SA_RESTART, so the OS does not retry the call.
class SignalDuringPoll {
  public:
    static std::string why_not();  // why there are no signals here, or ""
    SignalDuringPoll();
    ~SignalDuringPoll();
    void interrupt();  // from another thread
    bool delivered() const;
};
