// bench/scale_client.cpp: the scale clients' command line (scale_client.h says what they
// share), compiled once into the bench-scale-client library that each of them links: the
// only part that includes CLI11, which costs seconds of compile time wherever it is included.
//
// Platform: Linux, as the clients.
#include "scale_client.h"

#include <arpa/inet.h>
#include <sys/resource.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "options.h"

namespace scale {

namespace {

// HOST:PORT into the address connect() takes; "" when it is one, else what is wrong.
std::string set_address(Options& options, const std::string& address) {
    const std::size_t colon = address.rfind(':');
    int port = 0;
    const char* const end = address.data() + address.size();
    if (colon == std::string::npos ||
        std::from_chars(address.data() + colon + 1, end, port).ptr != end || port < 1 ||
        port > 65535) {
        return "--address needs HOST:PORT, not " + address;
    }
    options.host = address.substr(0, colon);
    options.port = static_cast<std::uint16_t>(port);
    options.address.sin_family = AF_INET;
    options.address.sin_port = htons(options.port);  // network byte order
    if (inet_pton(AF_INET, options.host.c_str(), &options.address.sin_addr) != 1) {
        return options.host + " is not an IPv4 address";
    }
    return "";
}

void raise_open_file_limit(int requests) {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        fail("getrlimit");
    }
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
        fail("setrlimit");
    }
    if (limit.rlim_cur < static_cast<rlim_t>(requests) + 16) {  // + stdio, the queue, ...
        std::fprintf(stderr,
                     "%s: %d requests need about %d file descriptors; the hard limit is %llu "
                     "(as root: ulimit -Hn %d)\n",
                     measure::program_name, requests, requests + 16,
                     static_cast<unsigned long long>(limit.rlim_max), requests + 16);
        std::exit(1);
    }
}

}  // namespace

Options parse_options(int argc, char** argv, const char* name, const char* way) {
    measure::program_name = name;
    Options options;
    set_address(options, "127.0.0.1:8080");
    CLI::App app{
        std::string("N delayed requests to the delay server at once, waited for by ") + way + ".",
        name};
    std::string address = "127.0.0.1:8080";
    app.add_option("--address", address, "the delay server, HOST:PORT; HOST is an IPv4 address")
        ->capture_default_str()
        ->check([&options](const std::string& value) { return set_address(options, value); });
    add_number(app, "--requests", options.requests, "how many, each on its own connection", 1,
               1000000);
    add_number(app, "--delay-ms", options.delay_ms,
               "the delay every request asks for: the same for all, where the examples' "
               "--step gives each request its own",
               0, 600000);
    parse_command_line(app, argc, argv);
    raise_open_file_limit(options.requests);
    return options;
}

}  // namespace scale
