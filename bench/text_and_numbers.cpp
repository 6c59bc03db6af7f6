// bench/text_and_numbers.cpp: the suite's small helpers: errors, files, numbers for
// people ("10,000"), and the median, min and max of a measurement's runs.
//
// Part of bench-suite (see suite.h). Platform: Linux.
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "suite.h"

namespace suite {

[[noreturn]] void fail(const std::string& call, int error_number) {
    std::fprintf(stderr, "bench-suite: %s: %s\n", call.c_str(), std::strerror(error_number));
    std::exit(1);
}

std::string read_file(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file << text;
    file.close();
    if (!file) {
        fail("write " + path);
    }
}

std::string line_after(const std::string& text, std::string_view prefix) {
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with(prefix)) {
            return line.substr(prefix.size());
        }
    }
    return "";
}

std::string first_word(const std::string& text) {
    return text.substr(0, text.find_first_of(" \n"));
}

std::string with_commas(long value) {
    const std::string digits = std::to_string(value);
    std::string text;
    for (std::size_t index = 0; index < digits.size(); ++index) {
        if (index > 0 && digits[index - 1] != '-' && (digits.size() - index) % 3 == 0) {
            text += ',';
        }
        text += digits[index];
    }
    return text;
}

std::string join(const std::vector<std::string>& parts, const std::string& separator) {
    std::string text;
    for (const std::string& part : parts) {
        text += (text.empty() ? "" : separator) + part;
    }
    return text;
}

std::string count_of(int count, const char* noun) {
    return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

double percent_apart(double value, double reference) {
    return std::fabs(value - reference) / reference * 100;
}

Summary summarize(std::vector<double> values) {
    std::erase_if(values, [](double value) { return std::isnan(value); });
    Summary summary;
    summary.count = static_cast<int>(values.size());
    if (values.empty()) {
        return summary;
    }
    std::sort(values.begin(), values.end());
    const std::size_t middle = values.size() / 2;
    summary.median =
        values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    summary.min = values.front();
    summary.max = values.back();
    return summary;
}

std::string cell(const Summary& summary, int decimals) {
    if (summary.count == 0) {
        return "-";
    }
    if (summary.count == 1) {
        return format("%.*f", decimals, summary.median);
    }
    return format("%.*f (%.*f–%.*f)", decimals, summary.median, decimals, summary.min, decimals,
                  summary.max);
}

}  // namespace suite
