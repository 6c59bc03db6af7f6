// tools/expect-output: run a program and check what it printed and how it ended.
//
// Every example test goes through this checker (its checks: --help). It compares standard
// output line by line with an expected-output file and, if asked, with the README's output
// block of the same name, so the output a README shows is proven to be what the program
// prints.
//
// Expected-output files are plain text, one line per line of output. Where a line may
// vary from run to run (a date, a duration), the part that varies is written as a regular
// expression between {{ and }}, as in LLVM's FileCheck:
//     FINISHED in {{[0-9.]+}} s
// A line that ends in {{+}} stands for one or more lines like it, in a row, and {{*}} for
// none or more: a loop that prints once per turn and turns as often as the clock lets it
// ("Schedule other tasks").
//
// Without a COMMAND it checks the README's block against the file and runs nothing: the
// macOS cross build, whose programs run only on a Mac, checks its expected outputs so.
// Runs on Linux and macOS (a host tool: cross-built examples run under Wine or QEMU as its
// COMMAND).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "command-line/command_line.hpp"
#include "run-captured.h"

// A bad expected-output file or README block is the caller's mistake, as a bad option is:
// run-captured.h's fail says what was wrong, exit 2.
const char tool_name[] = "expect-output";

namespace {

struct Options {
    std::string expected_file;
    std::string readme_file;
    std::string readme_block;
    int expected_exit = 0;
    std::string expected_signal;  // a name from `signals`, or empty
    std::vector<std::string> stderr_patterns;
    std::vector<std::string> stderr_absent_patterns;
    int timeout_seconds = 60;
    std::vector<std::string> command;
};

const std::map<std::string, int> signals = {{"SIGSEGV", SIGSEGV}, {"SIGBUS", SIGBUS},
                                            {"SIGABRT", SIGABRT}, {"SIGKILL", SIGKILL},
                                            {"SIGTERM", SIGTERM}, {"SIGPIPE", SIGPIPE}};

Options parse_options(int argc, char** argv) {
    Options options;
    CLI::App app{
        "Runs COMMAND and checks what it printed and how it ended; exit status 0 when\n"
        "every check passed, 1 when one failed, 2 for bad usage. Without a COMMAND,\n"
        "checks only that the README's block agrees with FILE.",
        "expect-output"};
    app.add_option("--expected", options.expected_file,
                   "standard output, line by line ({{regex}} for varying parts;\n"
                   "a line ending in {{+}}: one or more such lines, {{*}}: none or more)")
        ->required()
        ->type_name("FILE");
    CLI::Option* readme = app.add_option("--readme", options.readme_file,
                                         "the README whose block after <!-- output: NAME -->\n"
                                         "must agree with FILE as well")
                              ->type_name("README.md");
    CLI::Option* block =
        app.add_option("--block", options.readme_block, "that block's NAME")->type_name("NAME");
    readme->needs(block);
    block->needs(readme);
    CLI::Option* exit =
        app.add_option("--exit", options.expected_exit, "the exit code it must end with")
            ->type_name("CODE")
            ->capture_default_str();
    app.add_option("--signal", options.expected_signal, "or the signal it must die of")
        ->type_name("SIGNAME")
        ->check(CLI::IsMember(signals))
        ->excludes(exit);
    app.add_option("--stderr", options.stderr_patterns,
                   "standard error must contain a match (repeatable)")
        ->type_name("REGEX");
    app.add_option("--stderr-absent", options.stderr_absent_patterns,
                   "standard error must contain no match (repeatable)")
        ->type_name("REGEX");
    app.add_option("--timeout", options.timeout_seconds, "kill it after this long")
        ->type_name("SECONDS")
        ->capture_default_str();
    app.add_option("COMMAND", options.command, "the program to run and its arguments, after --");
    app.callback([&] {
        if (options.command.empty() && options.readme_file.empty()) {
            throw CLI::ValidationError("no COMMAND after --, and no --readme to check");
        }
    });
    parse_command_line(app, argc, argv);
    return options;
}

// The lines of a text. A line may end in "\n" or "\r\n": Windows programs writing in text
// mode (printf, std::cout) end their lines with "\r\n".
std::vector<std::string> split_lines(std::istream&& text) {
    std::vector<std::string> lines;
    for (std::string line; std::getline(text, line);) {
        if (line.ends_with('\r')) {
            line.pop_back();
        }
        lines.push_back(line);
    }
    return lines;
}

std::vector<std::string> read_lines(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        fail_with_os_error("open " + path);
    }
    return split_lines(std::move(file));
}

// One expected line: literal text, with {{regex}} for the parts that may vary.
std::regex line_pattern(const std::string& expected) {
    const auto literal = [&](std::size_t from, std::size_t to) {  // each special character escaped
        static const std::regex special(R"([\\^$.|?*+()[\]{}])");
        return std::regex_replace(expected.substr(from, to - from), special, "\\$&");
    };
    std::string pattern;
    std::size_t position = 0;
    for (std::size_t open; (open = expected.find("{{", position)) != std::string::npos;) {
        pattern += literal(position, open);
        std::size_t close = expected.find("}}", open + 2);
        if (close == std::string::npos) {
            fail("unterminated {{ in expected line: " + expected);
        }
        // A regex may end in a brace itself, as in {{[0-9]{2}}}: the pattern ends at the
        // last "}}" of a run of braces.
        while (close + 2 < expected.size() && expected[close + 2] == '}') {
            ++close;
        }
        pattern += "(?:" + expected.substr(open + 2, close - open - 2) + ")";
        position = close + 2;
    }
    return std::regex(pattern + literal(position, expected.size()));
}

// Compares `actual` lines with the expected lines; prints every difference.
bool lines_match(const std::vector<std::string>& expected, const std::vector<std::string>& actual,
                 const std::string& what) {
    bool ok = true;
    std::size_t next = 0;  // the next actual line to compare
    for (const std::string& expected_line : expected) {
        const bool optional = expected_line.ends_with("{{*}}");
        const bool repeated = optional || expected_line.ends_with("{{+}}");
        const std::string line =
            repeated ? expected_line.substr(0, expected_line.size() - 5) : expected_line;
        const std::regex pattern = line_pattern(line);
        if (!optional) {  // one line must match
            if (next >= actual.size()) {
                std::fprintf(stderr, "%s line %zu is missing; expected \"%s\"\n", what.c_str(),
                             next + 1, expected_line.c_str());
                ok = false;
                continue;
            }
            if (!std::regex_match(actual[next], pattern)) {
                std::fprintf(stderr, "%s line %zu differs:\n  expected \"%s\"\n  got      \"%s\"\n",
                             what.c_str(), next + 1, expected_line.c_str(), actual[next].c_str());
                ok = false;
            }
            ++next;
        }
        while (repeated && next < actual.size() && std::regex_match(actual[next], pattern)) {
            ++next;
        }
    }
    for (; next < actual.size(); ++next) {
        std::fprintf(stderr, "%s line %zu is extra: \"%s\"\n", what.c_str(), next + 1,
                     actual[next].c_str());
        ok = false;
    }
    return ok;
}

// The README shows each output in a fenced block right after a marker line
// `<!-- output: NAME -->`, invisible when the README is rendered.
std::vector<std::string> readme_block(const std::string& path, const std::string& name) {
    const std::vector<std::string> lines = read_lines(path);
    const std::string marker = "<!-- output: " + name + " -->";
    const auto fence = [](const std::string& line) { return line.starts_with("```"); };
    const auto at = std::find(lines.begin(), lines.end(), marker);
    if (at == lines.end()) {
        fail(path + ": no line '" + marker + "'");
    }
    if (at + 1 == lines.end() || !fence(at[1])) {
        fail(path + ": marker '" + marker + "' is not followed by a ``` block");
    }
    const auto end = std::find_if(at + 2, lines.end(), fence);
    if (end == lines.end()) {
        fail(path + ": the block after '" + marker + "' is not closed");
    }
    return {at + 2, end};
}

}  // namespace

int main(int argc, char** argv) {
    const Options options = parse_options(argc, argv);
    const std::vector<std::string> expected = read_lines(options.expected_file);

    const std::string what = options.readme_file + " block '" + options.readme_block + "'";
    bool ok = options.readme_file.empty() ||
              lines_match(expected, readme_block(options.readme_file, options.readme_block), what);
    if (options.command.empty()) {
        std::printf("%s\n", ok ? "the README's block agrees" : "CHECKS FAILED");
        return ok ? 0 : 1;
    }

    const CapturedRun finished =
        run_captured(options.command, std::chrono::seconds(options.timeout_seconds));
    // Show what the program printed, so a failing test explains itself in ctest's log.
    std::fwrite(finished.out.data(), 1, finished.out.size(), stdout);
    if (!finished.err.empty()) {
        std::printf("--- standard error ---\n");
        std::fwrite(finished.err.data(), 1, finished.err.size(), stdout);
    }
    std::printf("--- checks ---\n");
    std::fflush(stdout);

    if (finished.timed_out) {
        std::fprintf(stderr, "the program ran longer than %d s and was killed\n",
                     options.timeout_seconds);
        return 1;
    }
    ok = lines_match(expected, split_lines(std::istringstream(finished.out)), "standard output") &&
         ok;

    if (!options.expected_signal.empty()) {
        const int expected_signal = signals.at(options.expected_signal);
        if (!WIFSIGNALED(finished.status) || WTERMSIG(finished.status) != expected_signal) {
            std::fprintf(stderr, "expected death by signal %d (%s), got %s\n", expected_signal,
                         strsignal(expected_signal), how_it_ended(finished.status).c_str());
            ok = false;
        }
    } else if (!WIFEXITED(finished.status) ||
               WEXITSTATUS(finished.status) != (options.expected_exit & 0xff)) {
        std::fprintf(stderr, "expected exit code %d, got %s\n", options.expected_exit,
                     how_it_ended(finished.status).c_str());
        ok = false;
    }
    for (const std::string& pattern : options.stderr_patterns) {
        if (!std::regex_search(finished.err, std::regex(pattern))) {
            std::fprintf(stderr, "standard error has no match for /%s/\n", pattern.c_str());
            ok = false;
        }
    }
    for (const std::string& pattern : options.stderr_absent_patterns) {
        if (std::regex_search(finished.err, std::regex(pattern))) {
            std::fprintf(stderr, "standard error has a match for /%s/, which it must not\n",
                         pattern.c_str());
            ok = false;
        }
    }
    std::printf("%s\n", ok ? "all checks passed" : "CHECKS FAILED");
    return ok ? 0 : 1;
}
