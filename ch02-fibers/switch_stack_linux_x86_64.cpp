// ch02-fibers/switch_stack_linux_x86_64.cpp: the stack switch for x86-64 Linux (System V ABI).
//
// What a function may expect to find unchanged after a call (the System V x86-64 ABI,
// section 3.2.1, "Registers"): rbx, rbp, r12, r13, r14, r15 and rsp, plus the control bits
// of the SSE control/status register (MXCSR) and the x87 control word. No vector register
// is callee-saved on this ABI: xmm0-xmm15 may all be changed by any call.
//
// switch_stack(rdi = where to save this stack's pointer, rsi = the stack pointer to load)
// saves them on the current stack, lowest address first, as SavedRegisters below.
#include <cstdint>
#include <cstring>

#include "switch_stack.h"

asm(R"(
    .pushsection .text          # our own section state: the compiler's continues after
    .globl  switch_stack
    .type   switch_stack, @function
    .p2align 4
switch_stack:
    pushq   %rbp                # the six callee-saved general registers, onto this stack
    pushq   %rbx
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    subq    $8, %rsp            # room for the two control words
    stmxcsr (%rsp)              # SSE control and status (rounding, exception masks): 4 bytes
    fnstcw  4(%rsp)             # x87 control word (precision, rounding, masks): 2 bytes
    movq    %rsp, (%rdi)        # *save_stack_pointer = this stack's pointer

    movq    %rsi, %rsp          # the switch: from here on we are on the other stack

    ldmxcsr (%rsp)              # restore what was saved there, in reverse order
    fldcw   4(%rsp)
    addq    $8, %rsp
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %rbx
    popq    %rbp
    ret                         # pops the return address saved on the other stack
    .size   switch_stack, .-switch_stack
    .popsection
)");

namespace {

// What switch_stack leaves on a stack it switches away from, lowest address first.
struct SavedRegisters {
    std::uint32_t mxcsr;
    std::uint16_t x87_control_word;
    std::uint16_t unused;
    std::uint64_t r15, r14, r13, r12, rbx, rbp;
    std::uint64_t return_address;  // pushed by the call to switch_stack; ret pops it
};
static_assert(sizeof(SavedRegisters) == 64, "the layout switch_stack pushes and pops");

constexpr std::uint32_t default_mxcsr = 0x1F80;        // every exception masked, round to nearest
constexpr std::uint16_t default_x87_control = 0x037F;  // the same, 64-bit precision

}  // namespace

void* prepare_stack(void* /*stack_limit: not needed on this ABI*/, void* stack_base,
                    void (*entry)()) {
    // The ABI wants rsp + 8 to be a multiple of 16 when a function starts (rsp was one just
    // before the call that pushed the return address). So: a 16-byte-aligned top, an empty
    // return address slot for `entry` (0: debuggers stop their backtrace there), and below
    // it the registers switch_stack will pop, whose return address is `entry` itself.
    const std::uintptr_t top = reinterpret_cast<std::uintptr_t>(stack_base) & ~std::uintptr_t{15};
    const std::uintptr_t entry_return_slot = top - 8;
    const std::uintptr_t saved_at = entry_return_slot - sizeof(SavedRegisters);

    const std::uint64_t no_return_address = 0;
    std::memcpy(reinterpret_cast<void*>(entry_return_slot), &no_return_address, 8);
    SavedRegisters initial{};  // zero in every general register
    initial.mxcsr = default_mxcsr;
    initial.x87_control_word = default_x87_control;
    initial.return_address = reinterpret_cast<std::uint64_t>(entry);
    std::memcpy(reinterpret_cast<void*>(saved_at), &initial, sizeof initial);
    return reinterpret_cast<void*>(saved_at);
}
