// bench/scale_ways.h: the ways of waiting that the scale test compares, one row each.
//
// A new way is one more client program (scale_NAME.cpp, sharing scale_client.h), its
// add_executable lines in bench/CMakeLists.txt, and one row here. The suite then runs it
// in every round, puts it in the scale table, the "where the time goes" table, the memory
// per request and the chart, and lists it under "How the numbers are made". For each way
// the template can also name its figures at the largest N (see section_scale.cpp), e.g.
// {{scale.epoll.wall}}, to say something about it in words.
//
// Part of bench-suite (see suite.h). Platform: Linux.
#pragma once

#include <string>
#include <vector>

#include "suite.h"

namespace suite {

// In the order of the tables and the chart. A way whose program was not built (its
// library missing) is skipped, and the page says so.
inline const std::vector<Way> scale_ways = {
    // key      program                label
    {"threads", "bench-scale-threads", "thread per request",
     "[scale_threads.cpp](../bench/scale_threads.cpp) (blocking sockets, one pthread per "
     "request)"},
    {"epoll", "bench-scale-epoll", "raw epoll",
     "[scale_epoll.cpp](../bench/scale_epoll.cpp) (non-blocking sockets, one edge-triggered "
     "epoll loop, as in ch03-epoll)"},
    {"poll", "bench-scale-poll", "Poll on epoll",
     "[scale_poll.cpp](../bench/scale_poll.cpp) (scale_epoll.cpp's client on "
     "[ch03-poll](../ch03-poll/README.md)'s Poll over its epoll backend: one-shot, re-armed "
     "after each event)"},
    {"io_uring", "bench-scale-io-uring", "raw io_uring",
     "[scale_io_uring.cpp](../bench/scale_io_uring.cpp) (one io_uring loop through liburing, "
     "as in ch03-io-uring: connect, send and receive submitted as operations, their results "
     "taken as completions)"},
    {"asio", "bench-scale-asio", "Asio",
     "[scale_asio.cpp](../bench/scale_asio.cpp) (standalone Asio, one io_context)"},
    {"libuv", "bench-scale-libuv", "libuv",
     "[scale_libuv.cpp](../bench/scale_libuv.cpp) (one uv_loop)"},
};

// A way's label for the page, from its key ("epoll" -> "raw epoll").
inline std::string label_of(const std::string& key) {
    for (const Way& way : scale_ways) {
        if (way.key == key) {
            return way.label;
        }
    }
    return key;
}

}  // namespace suite
