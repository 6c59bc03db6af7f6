// ch02-fibers/switch_stack_windows_x86_64.cpp: the stack switch for Windows x64.
//
// What a function may expect to find unchanged after a call (Microsoft's "x64 calling
// convention", section "Callee-saved registers"): rbx, rbp, rdi, rsi, r12-r15, rsp and
// xmm6-xmm15, plus the control bits of MXCSR and the x87 control word. Two more than on
// Linux (rdi and rsi), and ten vector registers that Linux does not keep.
//
// Windows also keeps facts about the running thread's stack in its Thread Information
// Block (TIB, reached through the gs segment): StackBase at gs:0x08 (the top), StackLimit
// at gs:0x10 (the lowest committed address), DeallocationStack at gs:0x1478 (the start of
// the stack's reservation), and at gs:0x00 ExceptionList, the chain of exception handler
// records on the stack (32-bit Windows' SEH chain; x64 Windows no longer walks it, but Wine
// keeps its own handler frames there). Exception dispatch (C++ exceptions on MinGW-w64 go
// through it) checks the frames it finds against these, and the stack overflow handling
// reads them. So switching stacks on Windows switches these four words too, as Windows' own
// SwitchToFiber does. Tried under Wine: a C++ exception thrown and caught on a fiber ends
// the program (std::terminate) if either the bounds or ExceptionList are left as they are.
//
// switch_stack(rcx = where to save this stack's pointer, rdx = the stack pointer to load)
// saves them on the current stack, lowest address first, as SavedRegisters below.
#include <cstdint>
#include <cstring>

#include "switch_stack.h"

asm(R"(
    .text                       # code (COFF has no .pushsection: GCC sets its own after)
    .globl  switch_stack
    .def    switch_stack; .scl 2; .type 32; .endef   # a global function, in COFF's words
    .p2align 4
switch_stack:
    pushq   %rbp                # the eight callee-saved general registers, onto this stack
    pushq   %rbx
    pushq   %rdi
    pushq   %rsi
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    pushq   %gs:0x00            # TIB ExceptionList: handler records on this stack
    pushq   %gs:0x08            # TIB StackBase: the top of this thread's current stack
    pushq   %gs:0x10            # TIB StackLimit: its lowest committed address
    pushq   %gs:0x1478          # TIB DeallocationStack: where its reservation starts
    subq    $168, %rsp          # room for xmm6-xmm15 (10 x 16 bytes) and the control words
    movups  %xmm6, 0(%rsp)      # movups: this area need not be 16-byte aligned
    movups  %xmm7, 16(%rsp)
    movups  %xmm8, 32(%rsp)
    movups  %xmm9, 48(%rsp)
    movups  %xmm10, 64(%rsp)
    movups  %xmm11, 80(%rsp)
    movups  %xmm12, 96(%rsp)
    movups  %xmm13, 112(%rsp)
    movups  %xmm14, 128(%rsp)
    movups  %xmm15, 144(%rsp)
    stmxcsr 160(%rsp)           # SSE control and status: 4 bytes
    fnstcw  164(%rsp)           # x87 control word: 2 bytes
    movq    %rsp, (%rcx)        # *save_stack_pointer = this stack's pointer

    movq    %rdx, %rsp          # the switch: from here on we are on the other stack

    movups  0(%rsp), %xmm6      # restore what was saved there, in reverse order
    movups  16(%rsp), %xmm7
    movups  32(%rsp), %xmm8
    movups  48(%rsp), %xmm9
    movups  64(%rsp), %xmm10
    movups  80(%rsp), %xmm11
    movups  96(%rsp), %xmm12
    movups  112(%rsp), %xmm13
    movups  128(%rsp), %xmm14
    movups  144(%rsp), %xmm15
    ldmxcsr 160(%rsp)
    fldcw   164(%rsp)
    addq    $168, %rsp
    popq    %gs:0x1478          # the other stack's bounds, into the TIB
    popq    %gs:0x10
    popq    %gs:0x08
    popq    %gs:0x00
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %rsi
    popq    %rdi
    popq    %rbx
    popq    %rbp
    ret                         # pops the return address saved on the other stack
)");

namespace {

// What switch_stack leaves on a stack it switches away from, lowest address first.
struct SavedRegisters {
    std::uint64_t xmm6_to_xmm15[20];  // 10 registers of 16 bytes
    std::uint32_t mxcsr;
    std::uint16_t x87_control_word;
    std::uint16_t unused;
    std::uint64_t deallocation_stack, stack_limit, stack_base, exception_list;  // the TIB's
    std::uint64_t r15, r14, r13, r12, rsi, rdi, rbx, rbp;
    std::uint64_t return_address;  // pushed by the call to switch_stack; ret pops it
};
static_assert(sizeof(SavedRegisters) == 272, "the layout switch_stack pushes and pops");

constexpr std::uint32_t default_mxcsr = 0x1F80;        // every exception masked, round to nearest
constexpr std::uint16_t default_x87_control = 0x027F;  // the same, 53-bit precision (Windows')

// Every function may use 32 bytes above its return address (the "home space" or "shadow
// space" its caller reserves for the four register arguments).
constexpr std::uintptr_t home_space_bytes = 32;

}  // namespace

void* prepare_stack(void* stack_limit, void* stack_base, void (*entry)()) {
    // As on Linux, rsp + 8 must be a multiple of 16 when a function starts. Above `entry`'s
    // (empty) return address slot lies its home space; below it, the registers
    // switch_stack will pop, whose return address is `entry` itself.
    const std::uintptr_t top = reinterpret_cast<std::uintptr_t>(stack_base) & ~std::uintptr_t{15};
    const std::uintptr_t entry_return_slot = top - home_space_bytes - 8;
    const std::uintptr_t saved_at = entry_return_slot - sizeof(SavedRegisters);

    const std::uint64_t no_return_address = 0;  // 0 ends a backtrace
    std::memcpy(reinterpret_cast<void*>(entry_return_slot), &no_return_address, 8);
    SavedRegisters initial{};  // zero in every general and vector register
    initial.mxcsr = default_mxcsr;
    initial.x87_control_word = default_x87_control;
    // The new stack's bounds, for the TIB. Our stacks are committed whole, so the lowest
    // committed address and the start of the reservation are the same (Boost.Context sets
    // DeallocationStack to the limit as well); the guard page lies just below.
    initial.exception_list = ~std::uint64_t{0};  // no handler records yet: the end of a chain
    initial.stack_base = reinterpret_cast<std::uint64_t>(stack_base);
    initial.stack_limit = reinterpret_cast<std::uint64_t>(stack_limit);
    initial.deallocation_stack = reinterpret_cast<std::uint64_t>(stack_limit);
    initial.return_address = reinterpret_cast<std::uint64_t>(entry);
    std::memcpy(reinterpret_cast<void*>(saved_at), &initial, sizeof initial);
    return reinterpret_cast<void*>(saved_at);
}
