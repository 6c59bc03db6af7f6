// arguments_and_table.hpp: what ch03-why-an-event-queue needs around its four ways of
// waiting. A first reading may skip this file: main.cpp is the lesson.
//
// It holds the requests of a run (request i asks for an answer after (N - i) * step ms), the
// check that an answer is the right one, and the table printed at the end. None of it calls
// the OS. The command line and the check that an answer is a complete 200 OK are the
// event-queue examples' own, support/arguments_and_report.hpp, in the shape this program
// asks for (main.cpp); what is this program's alone, waiting four ways and printing a table
// instead of their summary and timeline, is here, beside it, since no other program uses it.
//
// main.cpp defines program_name and program_purpose, and includes this file first.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "arguments_and_report.hpp"  // support/: Arguments, parse_arguments, the 200 OK check

// ----------------------------------------------------------------------------------------
// The requests and their answers
// ----------------------------------------------------------------------------------------

// Request i asks the delay server to answer "request-i" after (N - i) * step ms: the first
// sent is the slowest. Every way sends the same requests.
inline std::string request_path(const Arguments& arguments, int index) {
    const int delay_ms = (arguments.requests - index) * arguments.step_ms;
    return '/' + std::to_string(delay_ms) + "/request-" + std::to_string(index);
}

// The right answer to request i: a complete 200 OK (support's check) whose body is
// "request-i".
inline bool is_right_answer(std::string_view answer, int index) {
    const std::size_t head_end = answer.find("\r\n\r\n");
    return is_complete_ok_answer(answer) &&
           answer.substr(head_end + 4) == "request-" + std::to_string(index);
}

// ----------------------------------------------------------------------------------------
// The table
// ----------------------------------------------------------------------------------------

// One row: what one way took.
struct WayResult {
    const char* name;           // "busy loop, non-blocking"
    int right_answers = 0;      // of arguments.requests
    Clock::duration wall = {};  // time on the clock, from the first connect to the last answer
    std::chrono::microseconds cpu = {};  // processor time the process used meanwhile
    int threads = 0;                     // threads that waited
    std::int64_t os_calls = 0;           // read and epoll_wait calls made while waiting
};

inline long long milliseconds(auto duration) {
    return std::chrono::round<std::chrono::milliseconds>(duration).count();
}

// The table at the end: one row per way, then what the columns mean.
inline void print_table(const std::vector<WayResult>& results, const Arguments& arguments) {
    std::printf("\n%-34s %8s %8s %8s %8s %10s\n", "way", "answers", "wall ms", "CPU ms", "threads",
                "OS calls");
    for (const WayResult& result : results) {
        const std::string answers =
            std::to_string(result.right_answers) + " of " + std::to_string(arguments.requests);
        std::printf("%-34s %8s %8lld %8.1f %8d %10lld\n", result.name, answers.c_str(),
                    milliseconds(result.wall),
                    std::chrono::duration<double, std::milli>(result.cpu).count(), result.threads,
                    static_cast<long long>(result.os_calls));
    }
    std::printf(
        "\nwall: time on the clock; CPU: processor time the process used meanwhile, all its\n"
        "threads counted (getrusage); OS calls: the read and epoll_wait calls made while\n"
        "waiting.\n");
}
