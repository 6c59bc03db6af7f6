// ch02-fibers/switch_stack.h: the two functions each CPU's file implements.
//
// A fiber is a stack and the registers a function expects to find unchanged after a call.
// To switch fibers, save those registers on the stack we are on, remember where that stack
// ends (the stack pointer), move the stack pointer to the other fiber's stack, and restore
// the registers saved there. Everything else (the caller-saved registers, the flags) the
// compiler already assumes any call may change, so a switch that looks like a call to the
// compiler need not save it.
//
// The build compiles exactly one of the switch_stack_*.cpp files, chosen by OS and CPU:
//   switch_stack_linux_x86_64.cpp     the System V ABI (Linux, BSD)
//   switch_stack_linux_aarch64.cpp    the AAPCS64 (ARM64 Linux)
//   switch_stack_macos_x86_64.cpp     the same instructions as Linux's, for Mach-O
//   switch_stack_macos_arm64.cpp      the same instructions as Linux's, for Mach-O (Apple's
//                                     ARM64 ABI keeps AAPCS64's callee-saved registers)
//   switch_stack_windows_x86_64.cpp   the Microsoft x64 ABI, plus what Windows keeps about
//                                     the stack in the thread's information block
#pragma once

// Saves the callee-saved registers on the current stack, stores the stack pointer in
// *save_stack_pointer, loads load_stack_pointer into the stack pointer, restores the
// registers saved on that stack and returns there: into the switch_stack call that left
// that stack, or, for a fiber that has not run yet, into its entry function.
// Written in assembly: no compiler may spill a register between the save and the restore,
// and no sanitizer instruments it (as glibc's swapcontext is not instrumented either).
extern "C" void switch_stack(void** save_stack_pointer, void* load_stack_pointer);

// Writes onto a new, empty stack what switch_stack expects to find there: registers to
// restore (zeros, and the default floating-point control settings) and, as the address to
// return to, `entry`. Returns the stack pointer to hand to switch_stack. The stack's usable
// memory is [stack_limit, stack_base): stacks grow down, from stack_base towards the limit.
// `entry` must never return: there is no caller on the new stack to return to.
void* prepare_stack(void* stack_limit, void* stack_base, void (*entry)());
