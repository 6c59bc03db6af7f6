# bench/scale-chart.gp: the scale test's chart, peak memory and wall time against N.
#
# bench/run runs it after the scale test (gnuplot from Debian's gnuplot-nox):
#   gnuplot -e "datafile='scale.dat'; outputfile='docs/benchmarks-scale.svg'; ways=5; \
#               delay_ms=1000" bench/scale-chart.gp
# The data file holds one block per way of waiting (thread per request, raw epoll, raw
# io_uring, Asio, libuv; `ways` says how many were measured), blocks separated by two empty
# lines; each block starts with its title in quotes, then one line per N: N, median wall
# time / delay, median peak memory in MiB.

# noenhanced: the titles are plain text (enhanced text would set the "_uring" of
# "raw io_uring" as a subscript).
set terminal svg size 960,420 font "sans,13" background rgb "white" noenhanced
set output outputfile
set multiplot layout 1,2 title sprintf("N concurrent requests, each delayed %d ms by the server (medians)", delay_ms)
set logscale x 10
set xrange [2:20000]
set xlabel "concurrent requests (N)"
set format x "%.0f"
set grid
set key top left
set style data linespoints

set title "Peak resident memory of the client"
set logscale y 10
set yrange [1:*]
set ylabel "MiB (VmHWM)"
plot for [way = 0:ways - 1] datafile index way using 1:3 pointsize 1.2 linewidth 2 title columnheader(1)

set title "Wall time for all N answers"
unset logscale y
set ylabel "wall time / delay"
set yrange [0.9:*]
plot for [way = 0:ways - 1] datafile index way using 1:2 pointsize 1.2 linewidth 2 title columnheader(1)

unset multiplot
