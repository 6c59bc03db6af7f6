// delayserver/tests/cases-program.cpp: the server program itself.
//
// These cases run the delay server themselves (--server PATH): its command line (--help,
// a bad option, a bad value), a port already in use, and the lines it writes on standard
// error for each error answer.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "harness.hpp"

namespace delayserver_test {
namespace {

// Each error answer's line on the server's standard error names the request it answers:
// a 404 for /favicon.ico (which browsers ask for) is told from any other 404. This case
// starts the server itself, to read its standard error.
void case_error_log(const std::string& server_path) {
    RunningServer server({server_path, "--host", "127.0.0.1", "--port", "0"});
    const std::string listening = server.wait_for_line("listening on ");
    const std::optional<Address> found = parse_address(listening.substr(listening.find("on ") + 3));
    if (!found) {
        fail_now("no HOST:PORT in the server's line \"" + listening + "\"");
    }
    struct Logged {
        std::string request;
        std::string line;  // the server's line for its answer
    };
    const std::vector<Logged> expected = {
        {get_request("/favicon.ico"),
         "delayserver: answered 404 Not Found to GET /favicon.ico: " + not_found_body},
        {get_request("/abc/x"),
         "delayserver: answered 400 Bad Request to GET /abc/x: The delay 'abc' is not a whole "
         "number of milliseconds."},
        {"DELETE /50/x HTTP/1.1\r\nHost: localhost\r\n\r\n",
         "delayserver: answered 405 Method Not Allowed to DELETE /50/x: Method 'DELETE' is not "
         "allowed: this server answers GET and HEAD only."},
        {"GET /50/x\r\n\r\n",
         "delayserver: answered 400 Bad Request to a malformed request "
         "line: " +
             malformed_request_line_body},
        {tls_hello,
         "delayserver: answered 400 Bad Request to bytes that are not HTTP: " + not_http_body},
    };
    for (const Logged& logged : expected) {
        send_and_receive(*found, logged.request);
        std::string line = logged.line;
        if (line.ends_with('\n')) {
            line.pop_back();
        }
        check_equal("the server's line for its answer", line,
                    server.wait_for_line("delayserver: answered "));
    }
    check_equal("exit code after SIGTERM", "0", std::to_string(server.stop()));
}

// A second server on the port the first one holds must fail: exit 1, the OS's message.
void case_port_in_use(const Address& address, const std::string& server_path) {
    const ProgramRun run =
        run_program({server_path, "--host", address.host, "--port", address.port});
    check_equal("exit code of a server whose port is taken", "1", std::to_string(run.exit_code));
    const std::string expected_message = std::strerror(EADDRINUSE);  // "Address already in use"
    check(run.err.find("bind") != std::string::npos &&
              run.err.find(expected_message) != std::string::npos,
          "standard error should name bind and say \"" + expected_message + "\"");
    check_equal("standard output", "", run.out);
}

void case_help(const std::string& server_path) {
    const ProgramRun run = run_program({server_path, "--help"});
    check_equal("exit code of --help", "0", std::to_string(run.exit_code));
    for (const char* mention : {"Usage: delayserver", "--host", "--port", "--max-delay-ms",
                                "--idle-timeout-ms", "--fault", "reset", "stall", "garbage",
                                "truncate", "close", "--help", "/{delay_ms}/{message}"}) {
        check(run.out.find(mention) != std::string::npos,
              std::string("--help should mention ") + mention);
    }
    check_equal("standard error of --help", "", run.err);
    const ProgramRun short_form = run_program({server_path, "-h"});
    check_equal("exit code of -h", "0", std::to_string(short_form.exit_code));
    check(short_form.out == run.out, "-h should print what --help prints");
}

void case_bad_option(const std::string& server_path) {
    const ProgramRun run = run_program({server_path, "--bogus"});
    check_equal("exit code for an unknown option", "2", std::to_string(run.exit_code));
    check_equal("the first line of standard error", "delayserver: unknown option '--bogus'",
                run.err.substr(0, run.err.find('\n')));
    check(run.err.find("Usage: delayserver") != std::string::npos,
          "the usage should follow on standard error");
    check_equal("standard output", "", run.out);
    const ProgramRun positional = run_program({server_path, "8080"});
    check_equal("exit code for an argument that is not an option", "2",
                std::to_string(positional.exit_code));
}

void case_bad_value(const std::string& server_path) {
    const std::vector<std::vector<std::string>> bad_values = {
        {"--port", "70000"},        {"--port", "http"}, {"--port=-1"},  {"--max-delay-ms", "1e3"},
        {"--idle-timeout-ms", "0"}, {"--port"},         {"--host", ""}, {"--fault", "explode"},
        {"--fault=RESET"},          {"--fault"},
    };
    for (const std::vector<std::string>& options : bad_values) {
        std::vector<std::string> arguments = {server_path};
        arguments.insert(arguments.end(), options.begin(), options.end());
        const ProgramRun run = run_program(arguments);
        check_equal("exit code for " + options[0], "2", std::to_string(run.exit_code));
        const std::string option_name = options[0].substr(0, options[0].find('='));
        check(run.err.find(option_name) != std::string::npos,
              "standard error should name " + option_name);
    }
}

}  // namespace

const Case program_cases_table[] = {
    {"port-in-use", needs_address_and_server,
     [](const Inputs& in) { case_port_in_use(in.address, in.server); }},
    {"help", needs_server, [](const Inputs& in) { case_help(in.server); }},
    {"bad-option", needs_server, [](const Inputs& in) { case_bad_option(in.server); }},
    {"bad-value", needs_server, [](const Inputs& in) { case_bad_value(in.server); }},
    {"error-log", needs_server, [](const Inputs& in) { case_error_log(in.server); }},
};

std::span<const Case> program_cases() {
    return program_cases_table;
}

}  // namespace delayserver_test
