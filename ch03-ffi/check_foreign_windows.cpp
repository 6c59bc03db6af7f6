// ch03-ffi/check_foreign_windows.cpp: proves foreign_windows.h against <windows.h>.
//
// Nothing here runs. This file only compiles if our hand-written declarations agree with
// the Windows SDK's: C++ refuses two `extern "C"` declarations of one function with
// different types, so a wrong parameter or return type in foreign_windows.h stops the
// build. The static_asserts check the constants and the sizes of the types we mapped.
#include <windows.h>

#include <type_traits>

#include "foreign_windows.h"

#ifdef CH03_FFI_WRONG_DECLARATION
extern "C" __declspec(dllimport) int __stdcall GetStdHandle(unsigned long std_handle);
#endif

static_assert(std::is_same_v<decltype(&GetStdHandle), HANDLE(WINAPI*)(DWORD)>);
static_assert(std::is_same_v<decltype(&GetConsoleMode), BOOL(WINAPI*)(HANDLE, LPDWORD)>);
static_assert(std::is_same_v<decltype(&WriteConsoleW),
                             BOOL(WINAPI*)(HANDLE, const VOID*, DWORD, LPDWORD, LPVOID)>);
static_assert(std::is_same_v<decltype(&WriteFile),
                             BOOL(WINAPI*)(HANDLE, LPCVOID, DWORD, LPDWORD, LPOVERLAPPED)>);
static_assert(std::is_same_v<decltype(&GetLastError), DWORD(WINAPI*)()>);
static_assert(sizeof(DWORD) == 4, "DWORD is 32 bits, and so is unsigned long on Windows");
static_assert(standard_output_handle == STD_OUTPUT_HANDLE);
static_assert(format_message_from_system == FORMAT_MESSAGE_FROM_SYSTEM);
static_assert(format_message_ignore_inserts == FORMAT_MESSAGE_IGNORE_INSERTS);
