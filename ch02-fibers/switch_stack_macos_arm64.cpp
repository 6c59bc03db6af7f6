// ch02-fibers/switch_stack_macos_arm64.cpp: the stack switch for Apple's ARM64 (M-series Macs).
//
// What a function may expect to find unchanged after a call: Apple's ARM64 ABI ("Writing
// ARM64 code for Apple platforms") takes these from the Procedure Call Standard for the Arm
// 64-bit Architecture unchanged: x19-x28, the frame pointer x29, sp, and the low 64 bits of
// v8-v15, which are the registers d8-d15. The link register x30 holds our return address,
// so it is saved too: restoring another stack's x30 is what makes `ret` return there.
// The instructions are those of switch_stack_linux_aarch64.cpp, one for one (the test
// ch02-fibers-macos-arm64-same-switch-as-linux compares them). What differs is around them:
//   - Apple reserves x18 for the OS (the "platform register"): a program must not write it.
//     The switch never touches it; its scratch register is x9, as on Linux.
//   - Mach-O, not ELF: a C name gets a leading underscore (`_switch_stack`), the code section
//     is __TEXT,__text, and there is no `.type` or `.size`.
//   - Apple's arm64e (its own system programs) signs return addresses; a program built for
//     plain arm64, as this one is, does not, so a plain `ret` is right.
//
// switch_stack(x0 = where to save this stack's pointer, x1 = the stack pointer to load)
// saves them on the current stack, lowest address first, as SavedRegisters below.
//
// The build checks this file with clang for arm64-apple-macos11 on Linux, without Apple's
// SDK; it runs on an Apple-silicon Mac (not run here).
#include "switch_stack.h"

asm(R"(
    // our own section state, __TEXT,__text (what `.text` means on Mach-O): the compiler's
    // continues after
    .pushsection __TEXT,__text,regular,pure_instructions
    .globl  _switch_stack
    .p2align 4
_switch_stack:
    sub     sp, sp, #160        // 20 slots of 8 bytes; sp stays 16-byte aligned, as it must
    stp     x19, x20, [sp, #0]  // the callee-saved general registers, two at a time
    stp     x21, x22, [sp, #16]
    stp     x23, x24, [sp, #32]
    stp     x25, x26, [sp, #48]
    stp     x27, x28, [sp, #64]
    stp     x29, x30, [sp, #80] // frame pointer, and link register: where to return
    stp     d8, d9, [sp, #96]   // low halves of v8-v15
    stp     d10, d11, [sp, #112]
    stp     d12, d13, [sp, #128]
    stp     d14, d15, [sp, #144]
    mov     x9, sp              // sp cannot be stored directly: through a scratch register
    str     x9, [x0]            // *save_stack_pointer = this stack's pointer

    mov     sp, x1              // the switch: from here on we are on the other stack

    ldp     x19, x20, [sp, #0]  // restore what was saved there
    ldp     x21, x22, [sp, #16]
    ldp     x23, x24, [sp, #32]
    ldp     x25, x26, [sp, #48]
    ldp     x27, x28, [sp, #64]
    ldp     x29, x30, [sp, #80]
    ldp     d8, d9, [sp, #96]
    ldp     d10, d11, [sp, #112]
    ldp     d12, d13, [sp, #128]
    ldp     d14, d15, [sp, #144]
    add     sp, sp, #160
    ret                         // branch to x30: the return address saved on the other stack
    .popsection
)");

namespace {

// No standard header in this file: without Apple's SDK, as where the build checks it, there
// is no <cstdint> or <cstring> for macOS. The compiler's own names for the same things
// serve: __UINT64_TYPE__ is std::uint64_t, __builtin_memcpy is what std::memcpy becomes.
using uint64_t = __UINT64_TYPE__;
using uintptr_t = __UINTPTR_TYPE__;

// What switch_stack leaves on a stack it switches away from, lowest address first.
struct SavedRegisters {
    uint64_t x19, x20, x21, x22, x23, x24, x25, x26, x27, x28;
    uint64_t frame_pointer;  // x29
    uint64_t link_register;  // x30: where switch_stack's ret goes
    uint64_t d8, d9, d10, d11, d12, d13, d14, d15;
};
static_assert(sizeof(SavedRegisters) == 160, "the layout switch_stack stores and loads");

}  // namespace

void* prepare_stack(void* /*stack_limit: not needed on this ABI*/, void* stack_base,
                    void (*entry)()) {
    // sp must be a multiple of 16 whenever it is used to access memory. ret leaves sp just
    // above the saved registers: the 16-byte-aligned top, where `entry` starts. A frame
    // pointer of 0 ends the chain of frames a debugger (and Apple's crash reporter) follows
    // for a backtrace.
    const uintptr_t top = reinterpret_cast<uintptr_t>(stack_base) & ~uintptr_t{15};
    const uintptr_t saved_at = top - sizeof(SavedRegisters);

    SavedRegisters initial{};  // zero in every register, frame pointer included
    initial.link_register = reinterpret_cast<uint64_t>(entry);
    __builtin_memcpy(reinterpret_cast<void*>(saved_at), &initial, sizeof initial);
    return reinterpret_cast<void*>(saved_at);
}
