// bench/report_template.cpp: fills the page's template (bench/benchmarks.md.in) with the
// figures of one run.
//
// The template is the page as a reader sees it, with places for what a run measured:
//   {{name}}                           a figure: a number, or a list or table rows, as text
//   {{if name}}...{{else}}...{{end}}   a choice: which sentences this run's results call
//                                      for (a target met or missed, a section measured or
//                                      not); {{else}} is optional, and choices nest. A line
//                                      holding nothing but one of these tags disappears
//                                      whole, so a block can start and end on lines of its own.
// and two rules for the template's own reader:
//   a line that starts with {{! is a comment and is left out;
//   a line that ends with "\" goes on on the next one, whose indentation is dropped (for
//   table rows, which Markdown wants on one line).
// Runs of blank lines left where a block fell out become one blank line, and paragraphs
// and list items are wrapped again at 96 columns, so that where the template breaks its
// lines, and how long the figures are, does not show in the page. A name that the
// suite did not set, or tags that do not pair up, end the suite with the template's line.
//
// Part of bench-suite (see suite.h). Platform: any.
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "suite.h"

namespace suite {

namespace {

struct Line {
    std::string text;
    int number;  // in the template, for messages
};

// Drops the comments and joins the continued lines.
std::vector<Line> template_lines(const std::string& template_text) {
    std::vector<Line> lines;
    std::istringstream input(template_text);
    bool continues = false;
    int number = 0;
    for (std::string text; std::getline(input, text);) {
        ++number;
        if (continues) {
            lines.back().text += text.substr(std::min(text.find_first_not_of(' '), text.size()));
        } else if (text.starts_with("{{!")) {
            continue;
        } else {
            lines.push_back({text, number});
        }
        continues = lines.back().text.ends_with('\\');
        if (continues) {
            lines.back().text.pop_back();
        }
    }
    return lines;
}

// Words joined into lines of at most `width` characters.
std::string wrap(const std::string& text, std::size_t width, const std::string& first_prefix,
                 const std::string& next_prefix) {
    std::string wrapped = first_prefix;
    std::size_t line_length = 0;
    std::istringstream words(text);
    for (std::string word; words >> word;) {
        if (line_length > 0 && line_length + 1 + word.size() > width) {
            wrapped += "\n" + next_prefix;
            line_length = 0;
        } else if (line_length > 0) {
            wrapped += ' ';
            ++line_length;
        }
        wrapped += word;
        line_length += word.size();
    }
    return wrapped + "\n";
}

// Wraps the page's prose: a paragraph (lines of text up to a blank line), or a list item
// ("- " and the lines indented under it). Headings, tables, images, comments and code
// blocks stay as they are.
std::string wrap_paragraphs(const std::string& page) {
    constexpr std::size_t width = 96;
    std::string wrapped;
    std::string paragraph;  // the words so far
    bool list_item = false;
    bool in_code = false;
    const auto flush = [&] {
        if (!paragraph.empty()) {
            wrapped +=
                list_item ? wrap(paragraph, width, "- ", "  ") : wrap(paragraph, width, "", "");
        }
        paragraph.clear();
        list_item = false;
    };
    std::istringstream lines(page);
    for (std::string line; std::getline(lines, line);) {
        const bool fence = line.starts_with("```");
        const bool prose = !in_code && !fence && !line.empty() &&
                           std::string_view("|#!<").find(line[0]) == std::string_view::npos;
        if (prose && line.starts_with("- ")) {
            flush();
            list_item = true;
            paragraph = line.substr(2);
        } else if (prose) {
            paragraph += " " + line;
        } else {
            flush();
            wrapped += line + "\n";
            in_code = fence ? !in_code : in_code;
        }
    }
    flush();
    return wrapped;
}

class Filler {
  public:
    Filler(const std::string& template_name, const Figures& figures)
        : template_name_(template_name), figures_(figures) {}

    std::string fill(const std::vector<Line>& lines) {
        for (const Line& line : lines) {
            line_number_ = line.number;
            const std::string& text = line.text;
            const std::size_t first = text.find_first_not_of(' ');
            const bool one_tag = first != std::string::npos && text.compare(first, 2, "{{") == 0 &&
                                 text.find("}}", first) == text.size() - 2 &&
                                 is_block_tag(text.substr(first + 2, text.size() - first - 4));
            if (one_tag) {
                block_tag(text.substr(first + 2, text.size() - first - 4));
                continue;  // The whole line goes, with its end of line.
            }
            std::size_t position = 0;
            for (std::size_t start; (start = text.find("{{", position)) != std::string::npos;) {
                const std::size_t end = text.find("}}", start);
                if (end == std::string::npos) {
                    problem("'{{' without '}}'");
                }
                emit(text.substr(position, start - position));
                const std::string tag = text.substr(start + 2, end - start - 2);
                if (is_block_tag(tag)) {
                    block_tag(tag);
                } else if (on_) {
                    const auto found = figures_.text.find(tag);
                    if (found == figures_.text.end()) {
                        problem("no figure named '" + tag + "'");
                    }
                    output_ += found->second;
                }
                position = end + 2;
            }
            emit(text.substr(position) + "\n");
        }
        if (!open_.empty()) {
            line_number_ = open_.back().line_number;
            problem("{{if}} without {{end}}");
        }
        // A block that fell out leaves its blank lines on both sides: keep one.
        std::string page;
        for (const char character : output_) {
            if (character != '\n' || !page.ends_with("\n\n")) {
                page += character;
            }
        }
        return wrap_paragraphs(page);
    }

  private:
    struct Open {
        bool outer_on;  // the text around the block was being written
        bool chosen;    // the choice's value
        int line_number;
    };

    static bool is_block_tag(const std::string& tag) {
        return tag.starts_with("if ") || tag == "else" || tag == "end";
    }

    void block_tag(const std::string& tag) {
        if (tag.starts_with("if ")) {
            const std::string name = tag.substr(3);
            bool chosen = false;
            if (on_) {  // A choice inside text that is left out need not be set.
                const auto found = figures_.choices.find(name);
                if (found == figures_.choices.end()) {
                    problem("no choice named '" + name + "'");
                }
                chosen = found->second;
            }
            open_.push_back({on_, chosen, line_number_});
            on_ = on_ && chosen;
            return;
        }
        if (open_.empty()) {
            problem("{{" + tag + "}} without {{if}}");
        }
        if (tag == "else") {
            on_ = open_.back().outer_on && !open_.back().chosen;
        } else {
            on_ = open_.back().outer_on;
            open_.pop_back();
        }
    }

    void emit(const std::string& text) {
        if (on_) {
            output_ += text;
        }
    }

    [[noreturn]] void problem(const std::string& what) const {
        std::fprintf(stderr, "bench-suite: %s:%d: %s\n", template_name_.c_str(), line_number_,
                     what.c_str());
        std::exit(1);
    }

    const std::string& template_name_;
    const Figures& figures_;
    std::string output_;
    std::vector<Open> open_;
    bool on_ = true;
    int line_number_ = 0;
};

}  // namespace

std::string fill_template(const std::string& template_text, const std::string& template_name,
                          const Figures& figures) {
    return Filler(template_name, figures).fill(template_lines(template_text));
}

}  // namespace suite
