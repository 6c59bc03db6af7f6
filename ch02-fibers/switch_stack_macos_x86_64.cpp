// ch02-fibers/switch_stack_macos_x86_64.cpp: the stack switch for x86-64 macOS (Intel Macs).
//
// What a function may expect to find unchanged after a call: macOS on x86-64 follows the
// System V ABI, as Linux does (section 3.2.1, "Registers"): rbx, rbp, r12, r13, r14, r15
// and rsp, plus the control bits of the SSE control/status register (MXCSR) and the x87
// control word. No vector register is callee-saved on this ABI: xmm0-xmm15 may all be
// changed by any call.
// The instructions are those of switch_stack_linux_x86_64.cpp, one for one (the test
// ch02-fibers-macos-x86_64-same-switch-as-linux compares them). What differs is Mach-O, not
// ELF: a C name gets a leading underscore (`_switch_stack`), the code section is
// __TEXT,__text, and there is no `.type` or `.size`.
//
// switch_stack(rdi = where to save this stack's pointer, rsi = the stack pointer to load)
// saves them on the current stack, lowest address first, as SavedRegisters below.
//
// The build checks this file with clang for x86_64-apple-macos11 on Linux, without Apple's
// SDK; it runs on an Intel Mac (not run here).
#include "switch_stack.h"

asm(R"(
    # our own section state, __TEXT,__text (what `.text` means on Mach-O): the compiler's
    # continues after
    .pushsection __TEXT,__text,regular,pure_instructions
    .globl  _switch_stack
    .p2align 4
_switch_stack:
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
    .popsection
)");

namespace {

// No standard header in this file: without Apple's SDK, as where the build checks it, there
// is no <cstdint> or <cstring> for macOS. The compiler's own names for the same things
// serve: __UINT64_TYPE__ is std::uint64_t, __builtin_memcpy is what std::memcpy becomes.
using uint16_t = __UINT16_TYPE__;
using uint32_t = __UINT32_TYPE__;
using uint64_t = __UINT64_TYPE__;
using uintptr_t = __UINTPTR_TYPE__;

// What switch_stack leaves on a stack it switches away from, lowest address first.
struct SavedRegisters {
    uint32_t mxcsr;
    uint16_t x87_control_word;
    uint16_t unused;
    uint64_t r15, r14, r13, r12, rbx, rbp;
    uint64_t return_address;  // pushed by the call to switch_stack; ret pops it
};
static_assert(sizeof(SavedRegisters) == 64, "the layout switch_stack pushes and pops");

constexpr uint32_t default_mxcsr = 0x1F80;        // every exception masked, round to nearest
constexpr uint16_t default_x87_control = 0x037F;  // the same, 64-bit precision

}  // namespace

void* prepare_stack(void* /*stack_limit: not needed on this ABI*/, void* stack_base,
                    void (*entry)()) {
    // The ABI wants rsp + 8 to be a multiple of 16 when a function starts (rsp was one just
    // before the call that pushed the return address). So: a 16-byte-aligned top, an empty
    // return address slot for `entry` (0: debuggers stop their backtrace there), and below
    // it the registers switch_stack will pop, whose return address is `entry` itself.
    const uintptr_t top = reinterpret_cast<uintptr_t>(stack_base) & ~uintptr_t{15};
    const uintptr_t entry_return_slot = top - 8;
    const uintptr_t saved_at = entry_return_slot - sizeof(SavedRegisters);

    const uint64_t no_return_address = 0;
    __builtin_memcpy(reinterpret_cast<void*>(entry_return_slot), &no_return_address, 8);
    SavedRegisters initial{};  // zero in every general register
    initial.mxcsr = default_mxcsr;
    initial.x87_control_word = default_x87_control;
    initial.return_address = reinterpret_cast<uint64_t>(entry);
    __builtin_memcpy(reinterpret_cast<void*>(saved_at), &initial, sizeof initial);
    return reinterpret_cast<void*>(saved_at);
}
