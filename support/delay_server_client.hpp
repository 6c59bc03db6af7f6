// support/delay_server_client.hpp: what every client of the delay server sends and says
// the same way: the request, and the message when it cannot connect. A first reading may
// skip this file.
//
// The program defines program_name, which starts every message it prints.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

extern const char program_name[];

// The request for one stream: not the whole URL, only what follows the host. GET
// /5000/request-0 asks the delay server to answer "request-0" after 5000 ms.
inline std::string build_request(std::string_view path) {
    return "GET " + std::string(path) +
           " HTTP/1.1\r\n"
           "Host: localhost\r\n"
           "Connection: close\r\n"
           "\r\n";
}

// A connection refused (or no server at all): the OS's reason, the likely cause, and what
// to do about it. `why` is the OS's own words for the failure.
[[noreturn]] inline void fail_to_connect(std::string_view address, std::string_view why) {
    std::fprintf(stderr,
                 "%s: cannot connect to %.*s: %.*s\n"
                 "Is the delay server running? Start it in another terminal with\n"
                 "    build/default/delayserver/delayserver\n"
                 "or let ./run-example %s start one for this run.\n",
                 program_name, static_cast<int>(address.size()), address.data(),
                 static_cast<int>(why.size()), why.data(), program_name);
    std::exit(1);
}
