# cmake -DSOURCE_DIR=<top of the repository> -P check-registers.cmake
#
# A source check, not a run: the macOS variants run only on a Mac, where no test of ours
# runs. Every register the kernel writes during the system call must be an output ("=" or
# "+") or a clobber of the asm statement; else the compiler may think it still holds what
# was put there, and use it after the call. The registers each kernel writes:
#   Linux x86-64: rax (the result); rcx and r11 (the syscall instruction itself)
#   Linux ARM64:  x0 (the result)
#   macOS x86-64: rax and rdx (XNU returns two values, bsd/dev/i386/systemcalls.c); rcx, r11
#   macOS ARM64:  x0 and x1 (arm_prepare_u64_syscall_return, bsd/dev/arm/systemcalls.c)
# To show it can fail, it also checks each macOS variant with its second register made an
# input again (in memory only), and fails if that goes unnoticed.
cmake_minimum_required(VERSION 3.25)
set(folder ${SOURCE_DIR}/ch03-raw-syscalls)

# Per file: written_<file>, the x86-64 constraint letters or ARM64 registers the kernel
# writes; clobbered_<file>, the registers that must be clobbers.
set(written_raw_write_linux_x86_64 a)
set(clobbered_raw_write_linux_x86_64 rcx r11)
set(written_raw_write_linux_aarch64 x0)
set(clobbered_raw_write_linux_aarch64 "")
set(written_raw_write_macos_x86_64 a d)
set(clobbered_raw_write_macos_x86_64 rcx r11)
set(written_raw_write_macos_arm64 x0 x1)
set(clobbered_raw_write_macos_arm64 "")

# Sets <out> to what the asm statement in <text> of <variant> fails to declare, or "".
function(check_asm out text variant)
  set(problems "")
  string(REGEX REPLACE "//[^\n]*" "" code "${text}")  # comments may hold any word
  string(REGEX MATCH "asm volatile\\(([^;]*)\\);" statement "${code}")
  if(NOT statement)
    set(${out} "no asm volatile(...) statement" PARENT_SCOPE)
    return()
  endif()
  string(REPLACE ":" ";" sections "${CMAKE_MATCH_1}")
  list(LENGTH sections count)
  if(count LESS 4)
    set(${out} "the asm statement has no clobber list" PARENT_SCOPE)
    return()
  endif()
  list(GET sections 1 outputs)
  list(GET sections 3 clobbers)
  foreach(register IN LISTS written_${variant})
    if(register MATCHES "^x[0-9]+$")
      # ARM64: the local variable pinned to that register must be an output.
      if(NOT code MATCHES "register [^;=]* ([a-z0-9_]+) asm\\(\"${register}\"\\)")
        list(APPEND problems "no variable pinned to ${register}")
        continue()
      endif()
      set(variable ${CMAKE_MATCH_1})
      if(NOT outputs MATCHES "\"[=+]&?r\"\\(${variable}\\)")
        list(APPEND problems "${register} (${variable}) is written by the kernel but not an output")
      endif()
    elseif(NOT outputs MATCHES "\"[=+]&?${register}\"")
      list(APPEND problems "the register of constraint \"${register}\" is written by the kernel but not an output")
    endif()
  endforeach()
  foreach(register IN LISTS clobbered_${variant})
    if(NOT clobbers MATCHES "\"${register}\"")
      list(APPEND problems "${register} is overwritten but not a clobber")
    endif()
  endforeach()
  set(${out} "${problems}" PARENT_SCOPE)
endfunction()

set(failures "")
foreach(variant IN ITEMS raw_write_linux_x86_64 raw_write_linux_aarch64 raw_write_macos_x86_64
                         raw_write_macos_arm64)
  file(READ ${folder}/${variant}.cpp text)
  check_asm(problems "${text}" ${variant})
  if(problems)
    list(APPEND failures "${variant}.cpp: ${problems}")
  else()
    message("${variant}.cpp: every register the kernel writes is an output or a clobber")
  endif()
endforeach()

# The check must be able to fail: each macOS variant with its second register an input.
set(mutated_variants raw_write_macos_x86_64 raw_write_macos_arm64)
set(mutations "\"+d\"(length)" "\"+r\"(x1)")
foreach(variant mutation IN ZIP_LISTS mutated_variants mutations)
  file(READ ${folder}/${variant}.cpp text)
  string(FIND "${text}" "${mutation}" at)
  if(at EQUAL -1)
    list(APPEND failures "${variant}.cpp: no ${mutation} to make an input for the self-test")
    continue()
  endif()
  string(REPLACE "${mutation}" "\"r\"(unused_input)" broken "${text}")
  check_asm(problems "${broken}" ${variant})
  if(NOT problems)
    list(APPEND failures "${variant}.cpp with ${mutation} made an input: not noticed")
  else()
    message("self-test: ${variant}.cpp with ${mutation} made an input is refused: ${problems}")
  endif()
endforeach()

if(failures)
  string(REPLACE ";" "\n  " listing "${failures}")
  message(FATAL_ERROR "Registers the kernel writes are not declared:\n  ${listing}")
endif()
