// delayserver/faults.cpp: the fault modes (--fault MODE), answering wrongly on purpose.
//
// What it shows: each fault as the bytes (or the silence) a client gets instead of its
// answer; see faults.hpp for why this is a value that main.cpp's Connection carries out.
// Each valid request has been read, logged and delayed as usual; only its answer changes,
// and the connection then ends the way a real failure would end it.
//
// Usage: compiled into the delay server. Portable C++20.
#include "faults.hpp"

#include <chrono>

#include "response.hpp"

namespace delayserver {

std::optional<Fault> fault_named(std::string_view name) {
    if (name == "reset") {
        return Fault::reset;
    } else if (name == "stall") {
        return Fault::stall;
    } else if (name == "garbage") {
        return Fault::garbage;
    } else if (name == "truncate") {
        return Fault::truncate;
    } else if (name == "close") {
        return Fault::close;
    }
    return std::nullopt;
}

FaultPlan plan_fault(Fault fault, std::string_view message) {
    switch (fault) {
        case Fault::reset:
            // The client's next read fails with ECONNRESET (WSAECONNRESET on Windows).
            return FaultPlan{FaultAction::reset, "", "resetting the connection"};
        case Fault::stall:
            // The client waits until its own timeout; SIGTERM still stops the server.
            return FaultPlan{FaultAction::stall, "", "stalling (nothing will be sent)"};
        case Fault::garbage:
            return FaultPlan{FaultAction::send_then_close, "this is not HTTP\r\n",
                             "sending bytes that are not HTTP"};
        case Fault::truncate: {
            // The head announces the whole body (content-length), but only its first half
            // follows before the server closes: the client sees end of file too early.
            const std::string whole =
                build_response(200, message, format_http_date(std::chrono::system_clock::now()));
            return FaultPlan{FaultAction::send_then_close,
                             whole.substr(0, whole.size() - (message.size() + 1) / 2),
                             "sending the head and half the body"};
        }
        case Fault::close:
        case Fault::none:  // not asked for without --fault; closing is the least surprise
            // Nothing to write: the connection closes at once, with FIN.
            return FaultPlan{FaultAction::send_then_close, "", "closing without sending a byte"};
    }
    return FaultPlan{};
}

}  // namespace delayserver
