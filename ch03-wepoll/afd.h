// ch03-wepoll/afd.h: the AFD driver's poll request, which no Windows header declares, declared
// by hand, and how to open the driver, which no Win32 call does. ch03-wepoll's main.cpp uses
// it, and so does ch03-poll's AFD backend (poll_afd.cpp), which includes this file through
// its include path (ch03-poll/CMakeLists.txt): the declarations are written once, here.
//
// AFD, the "ancillary function driver" (afd.sys), is the kernel driver under Winsock: a
// socket is a file handle opened on it. One of its requests, IOCTL_AFD_POLL, waits until
// sockets are readable, writable, closed or failed: Winsock's own select() is built on it
// (msafd.dll's WSPSelect in ReactOS sends the same request). Sent through
// NtDeviceIoControlFile on a handle associated with a completion port, the answer arrives
// as a completion: readiness, through IOCP. Microsoft documents neither the request nor its
// structures, so they are declared here, once, from the descriptions below. Our own
// declarations, written from these sources, not copied from them:
//   - ReactOS, sdk/include/reactos/drivers/afd/shared.h: AFD_POLL_INFO, its per-socket entry
//     (AFD_HANDLE there), the event bits (AFD_EVENT_*) and the request (IOCTL_AFD_SELECT);
//   - Wine, include/wine/afd.h (struct afd_poll_params, AFD_POLL_*, IOCTL_AFD_POLL) and its
//     tests, dlls/ws2_32/tests/afd.c, which run on real Windows as well as on Wine;
//   - wepoll, src/afd.h and src/afd.c; mio, src/sys/windows/afd.rs.
// Why a program can rely on something undocumented: libuv's uv_poll_t (src/win/poll.c, so
// Node.js), wepoll and mio (so every Tokio program on Windows) send this request, with
// these structures, on every Windows version they support; a change would break them all,
// and select() with them.
// Platform: Windows. Only the 64-bit build (MinGW-w64 x86-64) is built and run here.
#pragma once

#include <winsock2.h>  // first: <windows.h> alone would pull in the old <winsock.h>

#include <windows.h>
#include <winternl.h>  // NTSTATUS, NtCreateFile, UNICODE_STRING, OBJECT_ATTRIBUTES

#include <cstddef>
#include <string>

// Opens a handle on the AFD driver itself (not on a socket), as wepoll and mio do: the handle
// that the program sends its polls through and associates with its completion port. No Win32
// call opens a device by its kernel name, so ntdll's NtCreateFile, the call under CreateFile,
// does it, with its arguments in the kernel's own structures, built one at a time. Returns
// the call's NTSTATUS (negative: an error), for the caller to check.
// `name` is the device's name in the kernel's object namespace: \Device\Afd is the driver,
// and what follows it is free (wepoll's is \Device\Afd\Wepoll): it only names this
// handle's endpoint, so each program passes its own (L"\\Device\\Afd\\Ch03Wepoll").
inline NTSTATUS open_afd_device(HANDLE* afd, std::wstring name) {
    // The kernel takes a counted string, not a null-terminated one; both lengths in bytes.
    UNICODE_STRING unicode_name;
    unicode_name.Length = static_cast<USHORT>(name.size() * sizeof(wchar_t));  // no null
    unicode_name.MaximumLength = unicode_name.Length;  // the whole buffer: nothing added
    unicode_name.Buffer = name.data();
    // What to open: that name, matched exactly (no OBJ_CASE_INSENSITIVE), not relative to an
    // open directory (no root handle), with the default security (no security descriptor).
    OBJECT_ATTRIBUTES attributes;
    InitializeObjectAttributes(&attributes, &unicode_name, 0, nullptr, nullptr);
    IO_STATUS_BLOCK status_block;  // how the open went (its status is also returned)
    return NtCreateFile(afd,
                        SYNCHRONIZE,  // access: enough to send it requests
                        &attributes, &status_block,
                        nullptr,                             // no allocation size: no contents
                        0,                                   // no file attributes
                        FILE_SHARE_READ | FILE_SHARE_WRITE,  // others may open it too
                        FILE_OPEN,                           // open what exists, never create
                        0,  // no FILE_SYNCHRONOUS_IO_*: each request reports later, on the port
                        nullptr, 0);  // no extended attributes: with them, AFD makes a socket
}

// The request's control code. ReactOS builds it as (FILE_DEVICE_NETWORK << 12) | (9 << 2) |
// METHOD_BUFFERED, AFD's operation 9 (AFD_SELECT); Wine as CTL_CODE(FILE_DEVICE_BEEP, 0x809,
// METHOD_BUFFERED, FILE_ANY_ACCESS). Both are 0x12024, the value wepoll and mio use.
constexpr ULONG IOCTL_AFD_POLL = 0x00012024;

// What can be asked for and reported, one bit each (ReactOS's AFD_EVENT_*_BIT, Wine's
// afd_poll_bit; the names are wepoll's and mio's). ch03-wepoll asks for the three that make a
// read return at once: data, the peer's close and a reset, as libuv does for "readable".
constexpr ULONG AFD_POLL_RECEIVE = 0x0001;            // data to read (POLLIN)
constexpr ULONG AFD_POLL_RECEIVE_EXPEDITED = 0x0002;  // out-of-band data (POLLPRI)
constexpr ULONG AFD_POLL_SEND = 0x0004;               // room to send (POLLOUT)
constexpr ULONG AFD_POLL_DISCONNECT = 0x0008;         // the peer closed its side (POLLRDHUP)
constexpr ULONG AFD_POLL_ABORT = 0x0010;              // the connection was reset (POLLHUP)
constexpr ULONG AFD_POLL_LOCAL_CLOSE = 0x0020;        // this process closed the socket
constexpr ULONG AFD_POLL_ACCEPT = 0x0080;             // a connection to accept
constexpr ULONG AFD_POLL_CONNECT_FAIL = 0x0100;       // a connect failed (POLLERR)

// One socket to watch: the socket (its base handle, see SIO_BASE_HANDLE in main.cpp), the
// events asked for, and on completion the events that happened and a status.
struct AFD_POLL_HANDLE_INFO {
    HANDLE Handle;    // the base socket, as a handle
    ULONG Events;     // in: the AFD_POLL_* bits asked for; out: those that happened
    NTSTATUS Status;  // out: a status for this socket (Wine's tests see 0, even after a reset)
};

// The whole request: it is both the input and the output buffer of NtDeviceIoControlFile,
// so the OS writes the answer into it, and it belongs to the OS until the completion.
struct AFD_POLL_INFO {
    LARGE_INTEGER Timeout;            // absolute time, or negative: relative, in 100 ns units
    ULONG NumberOfHandles;            // in: entries in Handles; out: how many have events
    ULONG Exclusive;                  // FALSE: leave other polls on the same sockets pending
    AFD_POLL_HANDLE_INFO Handles[1];  // one socket per request here, as wepoll and mio do
};

// The sizes the driver expects. On 64-bit Windows: an 8-byte handle and two 32-bit fields,
// 16 bytes; then 8 + 4 + 4 bytes before the first entry. ReactOS declares Exclusive as a
// ULONG_PTR, which is the same on 32-bit Windows but would put Handles at offset 24 on 64-bit;
// Wine's tests, run on 64-bit Windows, settle it at 4 bytes (a BOOLEAN and padding), as
// wepoll and mio have it. On 32-bit Windows (not built here) the entry is 12 bytes and the
// 8-byte Timeout rounds the whole to 32 again.
static_assert(sizeof(void*) == 8 ? sizeof(AFD_POLL_HANDLE_INFO) == 16
                                 : sizeof(AFD_POLL_HANDLE_INFO) == 12);
static_assert(offsetof(AFD_POLL_INFO, Handles) == 16);
static_assert(sizeof(AFD_POLL_INFO) == 32);
