// ch02-fibers/switch_stack_check.cpp: a test that switch_stack keeps what a call must keep.
//
// Not part of the example: the test ch02-fibers-switch-keeps-registers runs it. main holds
// twelve whole numbers and ten doubles across a switch to a fiber and back. The compiler
// keeps values that live across a call in the registers the ABI says a call preserves
// (x86-64: rbx, r12-r15, and on Windows rdi, rsi, xmm6-xmm15; ARM64: x19-x28, d8-d15), as
// far as there are such registers. The fiber fills the same registers with values of its
// own before it switches back. If switch_stack forgot one of them, main finds the fiber's
// value in it. (Tried: without the d8-d15 lines of switch_stack_linux_aarch64.cpp, or the
// xmm6-xmm15 lines of switch_stack_windows_x86_64.cpp, this test fails.)
//
// The values come from volatile variables, so the compiler cannot fold them into constants;
// an optimized build is needed for the registers to be used (a Debug build keeps every
// value on the stack, and this test then checks little).
//
// Usage:    ch02-fibers-switch-check
// Output:   "switch_stack kept all 22 values" and exit code 0, or the values it lost, exit 1.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "one_option.hpp"  // refuse_arguments: --help, and no arguments
#include "switch_stack.h"

namespace {

constexpr std::size_t check_stack_bytes = 64 * 1024;  // as the example's fibers have
alignas(16) unsigned char fiber_stack[check_stack_bytes];
void* main_stack_pointer = nullptr;
void* fiber_stack_pointer = nullptr;

volatile std::uint64_t whole_seed = 1;  // volatile: read at run time, never folded
volatile double double_seed = 1.0;

// The fiber: twelve whole numbers and ten doubles of its own, live across its switch back
// to main, so that the compiler puts them in the same callee-saved registers.
void fiber_entry() noexcept {
    const std::uint64_t w0 = whole_seed * 1001, w1 = whole_seed * 1002, w2 = whole_seed * 1003,
                        w3 = whole_seed * 1004, w4 = whole_seed * 1005, w5 = whole_seed * 1006,
                        w6 = whole_seed * 1007, w7 = whole_seed * 1008, w8 = whole_seed * 1009,
                        w9 = whole_seed * 1010, w10 = whole_seed * 1011, w11 = whole_seed * 1012;
    const double d0 = double_seed * -1.5, d1 = double_seed * -2.5, d2 = double_seed * -3.5,
                 d3 = double_seed * -4.5, d4 = double_seed * -5.5, d5 = double_seed * -6.5,
                 d6 = double_seed * -7.5, d7 = double_seed * -8.5, d8 = double_seed * -9.5,
                 d9 = double_seed * -10.5;
    switch_stack(&fiber_stack_pointer, main_stack_pointer);
    // Never reached (main does not switch back), but the compiler cannot know that: the
    // values must survive the call above, so they sit in callee-saved registers during it.
    whole_seed = w0 + w1 + w2 + w3 + w4 + w5 + w6 + w7 + w8 + w9 + w10 + w11;
    double_seed = d0 + d1 + d2 + d3 + d4 + d5 + d6 + d7 + d8 + d9;
    std::abort();
}

int lost = 0;

void expect(const char* name, double kept, double expected) {
    if (kept != expected) {
        std::printf("lost %s: %g after the switch, %g before\n", name, kept, expected);
        ++lost;
    }
}

}  // namespace

// ----------------------------------------------------------------------------------------
// The arguments: none, but --help and a wrong argument are answered as everywhere
// ----------------------------------------------------------------------------------------

constexpr char usage_text[] =
    "usage: ch02-fibers-switch-check\n"
    "Checks that switch_stack keeps every callee-saved register.\n"
    "Takes no arguments; --help or -h prints this text.\n";

int main(int argc, char** argv) {
    refuse_arguments(argc, argv, "ch02-fibers-switch-check",
                     usage_text);  // support/one_option.hpp
    fiber_stack_pointer = prepare_stack(fiber_stack, fiber_stack + check_stack_bytes, fiber_entry);

    const std::uint64_t w0 = whole_seed * 1, w1 = whole_seed * 2, w2 = whole_seed * 3,
                        w3 = whole_seed * 4, w4 = whole_seed * 5, w5 = whole_seed * 6,
                        w6 = whole_seed * 7, w7 = whole_seed * 8, w8 = whole_seed * 9,
                        w9 = whole_seed * 10, w10 = whole_seed * 11, w11 = whole_seed * 12;
    const double d0 = double_seed * 1.5, d1 = double_seed * 2.5, d2 = double_seed * 3.5,
                 d3 = double_seed * 4.5, d4 = double_seed * 5.5, d5 = double_seed * 6.5,
                 d6 = double_seed * 7.5, d7 = double_seed * 8.5, d8 = double_seed * 9.5,
                 d9 = double_seed * 10.5;

    switch_stack(&main_stack_pointer, fiber_stack_pointer);  // the fiber switches right back

    const std::uint64_t wholes[] = {w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11};
    const double doubles[] = {d0, d1, d2, d3, d4, d5, d6, d7, d8, d9};
    const char* const whole_names[] = {"w0", "w1", "w2", "w3", "w4",  "w5",
                                       "w6", "w7", "w8", "w9", "w10", "w11"};
    const char* const double_names[] = {"d0", "d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8", "d9"};
    for (int index = 0; index < 12; ++index) {
        expect(whole_names[index], static_cast<double>(wholes[index]),
               static_cast<double>(whole_seed * static_cast<std::uint64_t>(index + 1)));
    }
    for (int index = 0; index < 10; ++index) {
        expect(double_names[index], doubles[index], double_seed * (index + 1.5));
    }
    if (lost > 0) {
        std::printf("switch_stack lost %d of 22 values\n", lost);
        return 1;
    }
    std::printf("switch_stack kept all 22 values\n");
    return 0;
}
