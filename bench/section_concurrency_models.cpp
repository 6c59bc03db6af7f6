// bench/section_concurrency_models.cpp: section 4 of the page, chapter 2's four models of
// concurrency. Runs bench-concurrency-models (concurrency_models.cpp) once per model and
// round, --thread-runs rounds, the four models taking turns within each round so that a
// burst of other work on the machine spreads over all of them.
//
// Figures: models.tasks ("10,000"), models.sleep_ms, models.rows (the table's rows),
// models.problems, models.skipped_because, models.noisy (the hand-overs whose runs spread
// widely), and for every model KEY (threads, fibers, callbacks, coroutines) measured:
// models.KEY.create_ns, .peak_mib, .bytes_per_task and, but for threads, .switch_ns
// (medians). Beside them, from section 1: models.thread_switch_ns (the futex switch),
// models.fiber_switches_per_thread_switch, models.thread_bytes_per_coroutine.
// Choices: models.measured, models.all_measured, models.has_problems, models.has_noisy,
// models.KEY.measured, models.has_thread_switch.
//
// Part of bench-suite (see suite.h). Platform: Linux.
#include <unistd.h>

#include "suite.h"

namespace suite {

namespace {

// The four models, in the chapter's order, with what the page calls each, and what one
// hand-over from task to task is in it.
struct Model {
    const char* key;        // the program's first argument, and the template's name
    const char* label;      // the table's first column
    const char* hand_over;  // the table's last column
};
const Model models[] = {
    {"threads", "OS threads (`std::thread`, default stack)",
     "a context switch through a futex, in the kernel (section 1)"},
    {"fibers", "fibers (ch02-fibers' `switch_stack`, 64 KiB stacks)",
     "`switch_stack` from one fiber straight to another"},
    {"callbacks", "callbacks (a timer loop, as in ch02-callbacks)",
     "the loop runs one callback, which sets the next"},
    {"coroutines", "coroutines (C++20, as in ch02-coroutines)",
     "`resume()` of a coroutine that suspends again at once"},
};

// A hand-over time whose runs spread over more than this share of their median is called
// noisy on the page: at a few nanoseconds, where the code sits in memory and other work on
// the machine move it a lot.
constexpr double noisy_spread = 0.25;

}  // namespace

Summary ModelCosts::value(const std::string& model, const std::string& name) const {
    const auto found = values.find({model, name});
    return found == values.end() ? Summary{} : summarize(found->second);
}

ModelCosts measure_concurrency_models(const Options& options) {
    ModelCosts costs;
    const std::string program = options.programs + "/bench-concurrency-models";
    if (access(program.c_str(), X_OK) != 0) {
        costs.built = false;
        costs.skipped_because =
            "bench-concurrency-models was not built (no ch02-fibers switch for this CPU?)";
        return costs;
    }
    // The smoke run: a few tasks, short sleeps. The real one: the program's defaults
    // (10,000 tasks, each sleeping 200 ms; 1,000,000 hand-overs).
    costs.tasks = options.smoke ? 200 : 10000;
    costs.sleep_ms = options.smoke ? 20 : 200;
    const std::string switches = options.smoke ? "10000" : "1000000";
    for (int run = 1; run <= options.thread_runs; ++run) {
        std::string line;
        for (const Model& model : models) {
            const Finished finished =
                run_program({program, model.key, "--tasks", std::to_string(costs.tasks),
                             "--switches", switches, "--sleep-ms", std::to_string(costs.sleep_ms)},
                            std::chrono::seconds(120));
            if (!finished.succeeded()) {
                costs.problems.push_back(std::string("bench-concurrency-models ") + model.key +
                                         ": " + finished.how_it_ended());
                continue;
            }
            const auto result = parse_result(finished.output);
            for (const char* name : {"create_ns", "peak_kib", "bytes_per_task", "switch_ns"}) {
                costs.values[{model.key, name}].push_back(number(result, name));
            }
            line += format("%s%s %.0f B/task", line.empty() ? "" : ", ", model.key,
                           number(result, "bytes_per_task"));
        }
        std::printf("  models, run %d of %d: %s\n", run, options.thread_runs, line.c_str());
        std::fflush(stdout);
    }
    return costs;
}

void fill_concurrency_models(const Options&, const Results& results, Figures& figures) {
    const ModelCosts& costs = results.models;
    figures.text["models.skipped_because"] = costs.skipped_because;
    figures.text["models.tasks"] = with_commas(costs.tasks);
    figures.text["models.sleep_ms"] = std::to_string(costs.sleep_ms);
    figures.text["models.problems"] = join(costs.problems);
    figures.choices["models.has_problems"] = !costs.problems.empty();
    const Summary thread_switch = results.threads.value("switch futex");
    figures.choices["models.has_thread_switch"] = thread_switch.count > 0;
    figures.text["models.thread_switch_ns"] = format("%.0f", thread_switch.median);

    std::string rows;
    std::vector<std::string> noisy;
    bool any_measured = false;
    bool all_measured = true;
    for (const Model& model : models) {
        const std::string name = std::string("models.") + model.key;
        const Summary create = costs.value(model.key, "create_ns");
        figures.choices[name + ".measured"] = create.count > 0;
        if (create.count == 0) {
            all_measured = false;
            continue;
        }
        any_measured = true;
        Summary peak_mib = costs.value(model.key, "peak_kib");
        peak_mib.median /= 1024;
        peak_mib.min /= 1024;
        peak_mib.max /= 1024;
        const Summary per_task = costs.value(model.key, "bytes_per_task");
        // Threads: the switch is section 1's; the program has no hand-over of its own.
        const bool is_threads = std::string_view(model.key) == "threads";
        const Summary hand_over = is_threads ? thread_switch : costs.value(model.key, "switch_ns");
        figures.text[name + ".create_ns"] = format("%.0f", create.median);
        figures.text[name + ".peak_mib"] = format("%.1f", peak_mib.median);
        figures.text[name + ".bytes_per_task"] = format("%.0f", per_task.median);
        figures.text[name + ".switch_ns"] = format("%.1f", hand_over.median);
        if (!is_threads && hand_over.count > 1 &&
            hand_over.max - hand_over.min > noisy_spread * hand_over.median) {
            noisy.push_back(format("%s %.1f–%.1f ns", model.key, hand_over.min, hand_over.max));
        }
        rows += std::string("| ") + model.label + " | " + cell(create, 0) + " | " +
                cell(peak_mib, 1) + " | " + cell(per_task, 0) + " | " +
                cell(hand_over, is_threads ? 0 : 1) + " | " + model.hand_over + " |\n";
    }
    figures.choices["models.measured"] = any_measured;
    figures.choices["models.all_measured"] = all_measured;
    figures.text["models.rows"] = rows.substr(0, rows.empty() ? 0 : rows.size() - 1);
    figures.choices["models.has_noisy"] = !noisy.empty();
    figures.text["models.noisy"] = join(noisy);

    // For the prose: how many fiber swaps fit in one thread switch, and how many coroutine
    // frames in one thread's resident memory.
    const double fiber_ns = costs.value("fibers", "switch_ns").median;
    figures.text["models.fiber_switches_per_thread_switch"] =
        format("%.0f", thread_switch.median / fiber_ns);
    figures.text["models.thread_bytes_per_coroutine"] =
        format("%.0f", costs.value("threads", "bytes_per_task").median /
                           costs.value("coroutines", "bytes_per_task").median);
}

}  // namespace suite
