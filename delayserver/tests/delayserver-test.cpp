// delayserver/tests/delayserver-test.cpp: the delay server's test client, one case per run.
//
// What it shows: what the delay server promises, as a client sees it: exact status lines,
// headers and bodies, answers arriving in the order their delays end, errors for bad input,
// a server that carries on when clients misbehave (a thousand idle connections, a burst of
// malformed requests), and exactly the faults its --fault modes promise. It speaks HTTP
// over plain blocking POSIX sockets; every read has a timeout (SO_RCVTIMEO), so a broken
// server makes a test fail, never hang.
//
// Usage (CMakeLists.txt registers one CTest test per case):
//   delayserver-test CASE [--address HOST:PORT] [--server PATH] [--server-log FILE]
//   with-delayserver --server delayserver -- delayserver-test ok --address {address}
// --address is the server to talk to (with-delayserver replaces {address}); --server-log
// is the file with-delayserver copies the server's log to (same option there); --server
// is the server program, for the cases that start it themselves. `delayserver-test --help`
// lists the cases and what each needs.
//
// Output: one line per request and what came back; "FAILED: ..." lines for every check
// that failed; exit status 0 when all checks passed, 1 otherwise, 2 for bad usage.
//
// Platform: POSIX (Linux, macOS).
//
// The cases are in cases-*.cpp, one file per topic, each with its list of cases by name;
// harness.hpp has what they share (sockets, answers, the server program, its log).
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "harness.hpp"

using namespace delayserver_test;

namespace {

// Every case, in the order the usage lists them.
const std::vector<Case>& all_cases() {
    static const std::vector<Case> cases = [] {
        std::vector<Case> all;
        for (const std::span<const Case> topic :
             {request_cases(), connection_cases(), program_cases(), fault_cases(), abuse_cases()}) {
            all.insert(all.end(), topic.begin(), topic.end());
        }
        return all;
    }();
    return cases;
}

// The usage, then every case with the options it needs.
std::string usage_text() {
    std::string text =
        "Usage: delayserver-test CASE [--address HOST:PORT] [--server PATH] [--server-log FILE]\n"
        "       delayserver-test --help\n"
        "\n"
        "Runs one test case against the delay server; exit status 0 when every check passed,\n"
        "1 when one failed, 2 for bad usage.\n"
        "  --address HOST:PORT  the server to talk to\n"
        "  --server PATH        the server program, for the cases that start it themselves\n"
        "  --server-log FILE    the server's log (with-delayserver --server-log FILE)\n"
        "  -h, --help           print this text and exit\n"
        "\n"
        "Cases, and the options each needs:\n";
    for (const Case& each : all_cases()) {
        text += "  " + std::string(each.name);
        text += std::string(each.name.size() < 24 ? 24 - each.name.size() : 1, ' ');
        text += (each.needs & needs_address) ? " --address" : "";
        text += (each.needs & needs_server) ? " --server" : "";
        text += (each.needs & needs_server_log) ? " --server-log" : "";
        text += "\n";
    }
    return text;
}

[[noreturn]] void usage_error(const std::string& message) {
    std::fprintf(stderr, "delayserver-test: %s\n%s", message.c_str(), usage_text().c_str());
    std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
    const Case* chosen = nullptr;
    Inputs inputs;
    unsigned given = 0;
    for (int index = 1; index < argc; ++index) {
        const std::string_view argument = argv[index];
        if (argument == "--help" || argument == "-h") {
            std::fputs(usage_text().c_str(), stdout);
            return 0;
        }
        if (!argument.starts_with('-')) {
            if (chosen != nullptr) {
                usage_error("one case at a time, not '" + std::string(chosen->name) + "' and '" +
                            std::string(argument) + "'");
            }
            for (const Case& each : all_cases()) {
                chosen = each.name == argument ? &each : chosen;
            }
            if (chosen == nullptr) {
                usage_error("unknown case '" + std::string(argument) + "'");
            }
            continue;
        }
        if (argument != "--address" && argument != "--server" && argument != "--server-log") {
            usage_error("unknown option '" + std::string(argument) + "'");
        }
        if (index + 1 >= argc) {
            usage_error(std::string(argument) + " needs a value");
        }
        const std::string value = argv[++index];
        if (argument == "--address") {
            const std::optional<Address> address = parse_address(value);
            if (!address) {
                usage_error("--address needs HOST:PORT, not '" + value + "'");
            }
            inputs.address = *address;
            given |= needs_address;
        } else if (argument == "--server") {
            inputs.server = value;
            given |= needs_server;
        } else {
            inputs.server_log = value;
            given |= needs_server_log;
        }
    }
    if (chosen == nullptr) {
        usage_error("no case given");
    }
    for (const auto& [need, option] :
         {std::pair{needs_address, "--address"}, std::pair{needs_server, "--server"},
          std::pair{needs_server_log, "--server-log"}}) {
        if ((chosen->needs & need) != 0 && (given & need) == 0) {
            usage_error("case " + std::string(chosen->name) + " needs " + option);
        }
    }

    // A server that closes early must make send() fail with EPIPE, not kill this program.
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
        fail_with_os_error("signal");
    }
    chosen->run(inputs);
    if (failed_checks > 0) {
        std::printf("%d check(s) FAILED\n", failed_checks);
        return 1;
    }
    std::printf("all checks passed\n");
    return 0;
}
