// tools/leak-checks/handle-audit.cpp: lists the handles a Windows program leaves open.
//
// What `valgrind --track-fds=yes` is to ch03-epoll, this is to ch03-iocp. Linked into a
// test copy of an example (workspace_example_test ... CHECK_HANDLES), it notes which
// handles the process has before main starts, and after main has returned (its locals
// destroyed, so every RAII handle closed) it lists on stderr each handle opened since then
// that is still open:
//
//   handle-audit: 11 handles open before main, 12 after it returned
//   handle-audit: left open: handle 0x30 (IoCompletion)
//
// The first line says the audit ran; a test fails on any "left open" line. The control
// test, handle-audit-finds-a-leak, runs leak-a-handle.cpp with it and must see one.
//
// Winsock needs two things done before main. Its last WSACleanup closes every socket still
// open, which would hide a missing closesocket: the audit starts Winsock itself, so the
// program's WSACleanup is not the last, and cleans up only after it has looked. And Winsock
// keeps one event per thread for its blocking calls, made at the thread's first one and
// closed when the thread ends (in Wine, get_sync_event in dlls/ws2_32/socket.c): that
// handle is the system's, not the program's, so the audit makes it before main, with one
// blocking call of its own.
//
// The C++ runtime keeps a few handles for the whole process too, made the first time a
// program uses threads. Under MinGW-w64 (winpthreads, and emutls for thread_local), the first
// pthread call about the main thread keeps a duplicate of its handle and an event
// (std::thread, std::this_thread::get_id and a condition variable's wait all make them), and
// the first thread_local variable makes two semaphores; none is closed before the process
// ends (seen under Wine with a program that only reads a thread_local and starts a thread:
// Event, Thread, Semaphore, Semaphore left open). They are the runtime's, not the program's:
// the audit makes them before main too, by asking for the thread's id and using a
// thread_local of its own.
//
// Why not GetProcessHandleCount: under Wine 8 it returns 0 whatever is open. The system's
// handle table (NtQuerySystemInformation with SystemHandleInformation, from <winternl.h>)
// names each handle, not only how many, and Wine fills it in (the MSVC build on Windows
// itself is untested here).
// Platform: Windows (built with MinGW-w64 or MSVC; on Linux the tests run it under Wine).
#include <winsock2.h>  // first: <windows.h> alone would pull in the old <winsock.h>

#include <windows.h>
#include <winternl.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

struct OpenHandle {
    USHORT value;  // the handle's value in this process
    BYTE type;     // the object's type as a number; type_name() gives its name
    PVOID object;  // the object itself, where the system says (Wine says 0)
    bool operator==(const OpenHandle&) const = default;
};

// Prints the OS's message for a Win32 or Winsock error code and ends the process: the
// audit cannot say what the program left open.
[[noreturn]] void fail(const char* call, DWORD error) {
    char text[512];
    const DWORD length = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
                                        nullptr, error, 0, text, sizeof text, nullptr);
    std::fprintf(stderr, "handle-audit: %s: %.*s(error %lu)\n", call, static_cast<int>(length),
                 text, static_cast<unsigned long>(error));
    std::_Exit(3);
}

// Starts Winsock and makes its per-thread event for blocking calls (see the top): one
// blocking call, a bind to a free loopback port, on a socket closed right after.
void start_winsock() {
    WSADATA data;
    if (const int error = WSAStartup(MAKEWORD(2, 2), &data); error != 0) {
        // WSAStartup returns its error: WSAGetLastError needs a started Winsock.
        fail("WSAStartup", static_cast<DWORD>(error));
    }
    const SOCKET socket = ::socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (socket == INVALID_SOCKET) {
        fail("socket", WSAGetLastError());
    }
    sockaddr_in address{};  // sin_port 0: any free port
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // 127.0.0.1
    if (bind(socket, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        fail("bind", WSAGetLastError());
    }
    if (closesocket(socket) != 0) {
        fail("closesocket", WSAGetLastError());
    }
}

// The handles of this process, from the table of every handle of every process.
std::vector<OpenHandle> open_handles() {
    constexpr NTSTATUS status_info_length_mismatch = static_cast<NTSTATUS>(0xC0000004L);
    std::vector<unsigned char> buffer(64 * 1024);
    ULONG needed = 0;
    NTSTATUS status;
    // The table changes as other processes run: grow the buffer until one call fits it.
    while ((status = NtQuerySystemInformation(SystemHandleInformation, buffer.data(),
                                              static_cast<ULONG>(buffer.size()), &needed)) ==
           status_info_length_mismatch) {
        buffer.resize(std::max<std::size_t>(buffer.size() * 2, needed + 4096));
    }
    if (!NT_SUCCESS(status)) {
        // An NTSTATUS, not a Win32 error code: RtlNtStatusToDosError gives the one it maps to.
        fail("NtQuerySystemInformation", RtlNtStatusToDosError(status));
    }
    const auto* table = reinterpret_cast<const SYSTEM_HANDLE_INFORMATION*>(buffer.data());
    const DWORD this_process = GetCurrentProcessId();
    std::vector<OpenHandle> handles;
    for (ULONG index = 0; index < table->Count; ++index) {
        const SYSTEM_HANDLE_ENTRY& entry = table->Handle[index];
        // On Windows itself the owner field keeps only the low 16 bits of a process id, so
        // an entry that matches is also checked to be a handle that is open here.
        DWORD flags = 0;
        if (static_cast<USHORT>(entry.OwnerPid) == static_cast<USHORT>(this_process) &&
            GetHandleInformation(
                reinterpret_cast<HANDLE>(static_cast<ULONG_PTR>(entry.HandleValue)), &flags)) {
            handles.push_back({entry.HandleValue, entry.ObjectType, entry.ObjectPointer});
        }
    }
    return handles;
}

// The name of a handle's object type ("File", "Event", "IoCompletion", ...).
std::string type_name(USHORT value) {
    alignas(PUBLIC_OBJECT_TYPE_INFORMATION) unsigned char buffer[1024];
    ULONG length = 0;
    const NTSTATUS status = NtQueryObject(reinterpret_cast<HANDLE>(static_cast<ULONG_PTR>(value)),
                                          ObjectTypeInformation, buffer, sizeof buffer, &length);
    if (!NT_SUCCESS(status)) {
        return "object of unknown type";  // Closed meanwhile, or a type with no name to give.
    }
    const UNICODE_STRING& name =
        reinterpret_cast<const PUBLIC_OBJECT_TYPE_INFORMATION*>(buffer)->TypeName;
    return std::string(name.Buffer, name.Buffer + name.Length / sizeof(WCHAR));  // plain ASCII
}

// Makes the C++ runtime's handles for threads (see the top): the main thread's record, and
// what thread_local variables need.
thread_local volatile int thread_local_in_use = 0;  // volatile: the write is not optimized out
void start_thread_runtime() {
    static_cast<void>(std::this_thread::get_id());
    thread_local_in_use = 1;
}

// One object for the whole program: made before main (a static object's constructor), it
// compares after main (its destructor, which runs among the atexit handlers).
class HandleAudit {
  public:
    HandleAudit() {
        start_winsock();
        start_thread_runtime();
        before_main_ = open_handles();
    }
    ~HandleAudit() {
        const std::vector<OpenHandle> after_main = open_handles();
        std::fprintf(stderr, "handle-audit: %zu handles open before main, %zu after it returned\n",
                     before_main_.size(), after_main.size());
        for (const OpenHandle& handle : after_main) {
            if (std::find(before_main_.begin(), before_main_.end(), handle) == before_main_.end()) {
                std::fprintf(stderr, "handle-audit: left open: handle 0x%x (%s)\n", handle.value,
                             type_name(handle.value).c_str());
            }
        }
        std::fflush(stderr);
        if (WSACleanup() != 0) {
            fail("WSACleanup", WSAGetLastError());
        }
    }

  private:
    std::vector<OpenHandle> before_main_;
};

const HandleAudit audit;

}  // namespace
