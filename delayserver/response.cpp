// delayserver/response.cpp: writing the delay server's HTTP/1.1 answers, as pure functions.
//
// What it shows: the status line, the four headers every answer carries, and the Date
// header computed with C++20's calendar types instead of gmtime (no OS call, no static
// buffer, the same on every platform). See response.hpp for the shape of an answer.
//
// Usage: compiled into the delay server. Portable C++20.
#include "response.hpp"

#include <cstdio>

namespace delayserver {

std::string_view reason_phrase(int status_code) {
    switch (status_code) {
        case 200:
            return "OK";
        case 400:
            return "Bad Request";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 408:
            return "Request Timeout";
        case 431:
            return "Request Header Fields Too Large";
        default:
            return "Unknown";
    }
}

std::string format_http_date(std::chrono::system_clock::time_point when) {
    // system_clock counts time since 1970-01-01 00:00:00 UTC (guaranteed since C++20), so
    // whole days since then give the calendar date and the rest gives the time of day.
    const auto whole_seconds = std::chrono::floor<std::chrono::seconds>(when);
    const auto day = std::chrono::floor<std::chrono::days>(whole_seconds);
    const std::chrono::year_month_day date{day};
    const std::chrono::weekday week_day{day};
    const long long seconds_into_day = (whole_seconds - day).count();

    static constexpr const char* day_names[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char text[64];
    std::snprintf(text, sizeof text, "%s, %02u %s %04d %02lld:%02lld:%02lld GMT",
                  day_names[week_day.c_encoding()],  // c_encoding: 0 is Sunday, as in struct tm
                  static_cast<unsigned>(date.day()),
                  month_names[static_cast<unsigned>(date.month()) - 1],
                  static_cast<int>(date.year()), seconds_into_day / 3600,
                  seconds_into_day / 60 % 60, seconds_into_day % 60);
    return text;
}

std::string build_response(int status_code, std::string_view body, std::string_view http_date,
                           bool send_body) {
    std::string response;
    response.reserve(160 + body.size());
    response += "HTTP/1.1 " + std::to_string(status_code) + " ";
    response += reason_phrase(status_code);
    response += "\r\n";
    response += "content-length: " + std::to_string(body.size()) + "\r\n";
    response += "connection: close\r\n";
    response += "content-type: text/plain; charset=utf-8\r\n";
    response += "date: ";
    response += http_date;
    response += "\r\n";
    if (status_code == 405) {
        response += "allow: GET, HEAD\r\n";  // a 405 must list the methods that are allowed
    }
    response += "\r\n";
    if (send_body) {
        response += body;
    }
    return response;
}

}  // namespace delayserver
