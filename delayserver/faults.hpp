// delayserver/faults.hpp: the fault modes (--fault MODE), answering wrongly on purpose.
//
// What it shows: the ways a server can fail a client that has sent a valid request, each
// reduced to what it sends instead of the answer. The event-queue examples' tests run the
// server with --fault to show that a client ends with a clear message whatever happens.
//
// The interface: the fault code decides, the connection acts. plan_fault() returns a plain
// value (bytes to send, a reset, or nothing at all), and main.cpp's Connection carries it
// out with what it does anyway: write bytes and close, or close (with SO_LINGER 0 for a
// reset), or keep its pending read. So the fault modes need no socket and no Asio, and
// the Connection class stays in main.cpp, read in one piece.
//
// Usage: #include "faults.hpp"; link faults.cpp (and response.cpp). Portable C++20, no OS calls.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace delayserver {

// --fault MODE: what the server does instead of each 200 answer. Error answers (400, 404,
// ...) are never replaced.
enum class Fault { none, reset, stall, garbage, truncate, close };

// The mode named on the command line ("reset", ...), or nothing for an unknown name.
std::optional<Fault> fault_named(std::string_view name);

// The names, for messages: "reset, stall, garbage, truncate, close".
inline constexpr std::string_view fault_names = "reset, stall, garbage, truncate, close";

// What the connection does instead of answering.
enum class FaultAction {
    send_then_close,  // write `bytes` (possibly none), then close as after an answer
    reset,            // close with a reset (RST) instead of the orderly end (FIN)
    stall,            // send nothing, set no timer: wait until the client leaves
};

struct FaultPlan {
    FaultAction action = FaultAction::send_then_close;
    std::string bytes;        // for send_then_close
    std::string_view saying;  // for the server's stderr: "resetting the connection", ...
};

// The plan for `fault` (not Fault::none) in place of the 200 answer whose body would be
// `message`.
FaultPlan plan_fault(Fault fault, std::string_view message);

}  // namespace delayserver
