// bench/chart.cpp: the scale test's chart, peak memory and wall time against N, drawn by
// gnuplot from bench/scale-chart.gp (gnuplot from Debian's gnuplot-nox).
//
// The data file holds one block per way (gnuplot's "index"): a title line, then one line
// per N: N, median wall time / delay, median peak memory in MiB.
//
// Part of bench-suite (see suite.h). Platform: Linux.
#include "suite.h"

namespace suite {

namespace {

std::string chart_data(const Options& options, const ScaleResults& scale) {
    std::string data;
    for (const Way& way : scale.ways) {
        data += "\"" + way.label + "\"\n";
        for (const int size : options.sizes) {
            if (scale.has(way.key, size)) {
                data += format("%d %.3f %.2f\n", size,
                               scale.median(way.key, size, &ScaleRun::wall_ratio),
                               scale.median(way.key, size, &ScaleRun::peak_mib));
            }
        }
        data += "\n\n";
    }
    return data;
}

}  // namespace

std::string draw_chart(const Options& options, const ScaleResults& scale) {
    const std::string data_path = work_folder + "/scale.dat";
    write_file(data_path, chart_data(options, scale));
    const std::string variables = "datafile='" + data_path + "'; outputfile='" + options.chart +
                                  "'; delay_ms=" + std::to_string(options.delay_ms) +
                                  "; ways=" + std::to_string(scale.ways.size());
    const Finished finished =
        run_program({"gnuplot", "-e", variables, options.chart_script}, std::chrono::seconds(60));
    if (!finished.succeeded()) {
        return "gnuplot: " + finished.how_it_ended();
    }
    return "";
}

}  // namespace suite
