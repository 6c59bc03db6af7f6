// ch03-ffi/foreign_windows.h: the kernel32.dll functions this example calls, declared by hand.
//
// The Windows side of the foreign function interface: instead of including <windows.h>,
// we declare the five functions we call ourselves, with C linkage, the WINAPI calling
// convention (__stdcall; on x64 there is only one convention and it is ignored) and
// __declspec(dllimport) (the function lives in a DLL: kernel32.dll, linked by default).
// Windows type names map to plain C++ types: HANDLE is void*, DWORD is a 32-bit unsigned
// long, BOOL is int. check_foreign_windows.cpp proves all of this against <windows.h>.
#pragma once

#include <cstdarg>

struct _OVERLAPPED;  // Only passed as a null pointer here; the name must match <windows.h>.

extern "C" {
// HANDLE GetStdHandle(DWORD nStdHandle);
__declspec(dllimport) void* __stdcall GetStdHandle(unsigned long std_handle);
// BOOL GetConsoleMode(HANDLE hConsoleHandle, LPDWORD lpMode);
__declspec(dllimport) int __stdcall GetConsoleMode(void* console, unsigned long* mode);
// BOOL WriteConsoleW(HANDLE, const VOID* lpBuffer, DWORD nNumberOfCharsToWrite,
//                    LPDWORD lpNumberOfCharsWritten, LPVOID lpReserved);
__declspec(dllimport) int __stdcall WriteConsoleW(void* console, const void* characters,
                                                  unsigned long characters_to_write,
                                                  unsigned long* characters_written,
                                                  void* reserved);
// BOOL WriteFile(HANDLE, LPCVOID lpBuffer, DWORD nNumberOfBytesToWrite,
//                LPDWORD lpNumberOfBytesWritten, LPOVERLAPPED lpOverlapped);
__declspec(dllimport) int __stdcall WriteFile(void* file, const void* bytes,
                                              unsigned long bytes_to_write,
                                              unsigned long* bytes_written,
                                              _OVERLAPPED* overlapped);
// DWORD GetLastError(void);
__declspec(dllimport) unsigned long __stdcall GetLastError();
// DWORD FormatMessageA(DWORD dwFlags, LPCVOID lpSource, DWORD dwMessageId,
//                      DWORD dwLanguageId, LPSTR lpBuffer, DWORD nSize, va_list* Arguments);
__declspec(dllimport) unsigned long __stdcall FormatMessageA(
    unsigned long flags, const void* source, unsigned long message_id, unsigned long language_id,
    char* buffer, unsigned long size, va_list* arguments);
}

constexpr unsigned long standard_output_handle =
    static_cast<unsigned long>(-11);                              // STD_OUTPUT_HANDLE
inline void* const invalid_handle = reinterpret_cast<void*>(-1);  // INVALID_HANDLE_VALUE
constexpr unsigned long format_message_from_system = 0x00001000;  // FORMAT_MESSAGE_FROM_SYSTEM
constexpr unsigned long format_message_ignore_inserts =
    0x00000200;  // FORMAT_MESSAGE_IGNORE_INSERTS
