// ch03-poll/poll_afd.cpp: the Poll contract on Windows: AFD polls, answered on a completion
// port (wepoll's, mio's and libuv's way; ch03-wepoll shows it on its own).
//
//   selector.hpp   AFD and IOCP
//   Selector       CreateIoCompletionPort; NtCreateFile on \Device\Afd, tied to the port
//   add            WSAIoctl(SIO_BASE_HANDLE), then IOCTL_AFD_POLL through NtDeviceIoControlFile
//   modify         a new IOCTL_AFD_POLL; if one is still pending, CancelIoEx first, and the
//                  new one is sent when the cancelled one completes
//   remove         CancelIoEx of the pending poll, if any
//   select         GetQueuedCompletionStatusEx: each entry is one answered poll
//   wake           PostQueuedCompletionStatus, with no OVERLAPPED
//
//   Event          the AFD_POLL_* bits the poll answered with (afd.h)
//   readable       RECEIVE, ACCEPT, or DISCONNECT (the end of the stream can be read)
//   writable       SEND, or CONNECT_FAIL (the connect is done: it failed)
//   closed         DISCONNECT (a graceful close), ABORT (a reset), LOCAL_CLOSE
//   error          ABORT, CONNECT_FAIL, or a failed poll (its status)
//   os_error       ABORT: WSAECONNRESET, the OS's word for it (the socket's SO_ERROR and the
//                  handle's status stay 0 after a reset); CONNECT_FAIL: none, SO_ERROR has it
//
// An AFD poll answers once and must be sent again: the reason the contract is one-shot.
// What the OS does not do for us, and this file does (found with Wine 8, as wepoll has it):
//   - The poll's AFD_POLL_INFO and IO_STATUS_BLOCK belong to the OS until its completion
//     arrives, also after a cancel: a deregistered socket's record is kept until then.
//   - A cancelled poll completes with STATUS_CANCELLED: dropped, or, after a reregister,
//     replaced by the new poll. A poll that completed before the re-arm could cancel it is
//     dropped too (the new poll reports the socket's state again), so a re-arm gives one
//     event, not two.
//   - A null ApcContext queues no completion at all: the ApcContext is the record.
// ASan does not run on this build: these lifetimes are proved by the contract test's cases
// (deregister, then close; reregister while pending), not by a sanitizer.
#include <winsock2.h>  // first: <windows.h> alone would pull in the old <winsock.h>

#include <mswsock.h>  // SIO_BASE_HANDLE
#include <windows.h>
#include <winternl.h>  // NtCreateFile, NtDeviceIoControlFile, IO_STATUS_BLOCK

#include <memory>
#include <mutex>
#include <unordered_map>

#include "afd.h"  // ch03-wepoll/afd.h, through the include path: the AFD poll request
#include "selector.hpp"

namespace {

// Not in MinGW-w64's <winternl.h>: the status of a cancelled operation (ntstatus.h).
constexpr NTSTATUS status_cancelled = static_cast<NTSTATUS>(0xC0000120L);
// How long the destructor waits for its cancelled polls to complete before it gives up.
constexpr DWORD drain_timeout_ms = 1000;

PollError os_error(const char* call, DWORD error) {
    return {PollErrc::os_call_failed, call, static_cast<long>(error)};
}

// One registration, and what the OS owns while its poll is pending. Never moved: the OS
// holds its address (ApcContext, the status block, the poll info).
struct Record {
    std::uint64_t id = 0;
    SOCKET base_socket = INVALID_SOCKET;  // the socket as the driver knows it
    Interest wanted;
    bool pending = false;          // a poll is with the OS; its completion has not been taken yet
    bool rearm = false;            // when it completes, send a new one instead of reporting it
    AFD_POLL_INFO poll_info = {};  // the request, which the driver overwrites with its answer
    IO_STATUS_BLOCK status_block = {};  // how the poll ended, once it has
};

}  // namespace

struct Selector::State {
    HANDLE port = nullptr;
    HANDLE afd = nullptr;
    std::mutex mutex;  // the records: select runs while another thread registers
    std::unordered_map<std::uint64_t, std::unique_ptr<Record>> records;  // by id
    // Deregistered, their poll cancelled, kept until its completion arrives.
    std::unordered_map<Record*, std::unique_ptr<Record>> cancelled;

    // Sends the record's poll: no time limit, one socket, not exclusive. The closed bits are
    // asked for always (as epoll's EPOLLRDHUP): a socket registered writable learns of them.
    PollError send_poll(Record& record) {
        ULONG events = AFD_POLL_DISCONNECT | AFD_POLL_ABORT | AFD_POLL_LOCAL_CLOSE;
        if (record.wanted.readable) {
            events |= AFD_POLL_RECEIVE | AFD_POLL_ACCEPT;
        }
        if (record.wanted.writable) {
            events |= AFD_POLL_SEND | AFD_POLL_CONNECT_FAIL;
        }
        record.poll_info = {{.QuadPart = INT64_MAX}, 1, FALSE, {}};
        record.poll_info.Handles[0] = {reinterpret_cast<HANDLE>(record.base_socket), events, 0};
        // No event or APC: the port reports, with the ApcContext (the record) as the
        // entry's lpOverlapped. The poll info is both the request and where the answer goes.
        const NTSTATUS status = NtDeviceIoControlFile(
            afd, nullptr, nullptr, &record, &record.status_block, IOCTL_AFD_POLL, &record.poll_info,
            sizeof record.poll_info, &record.poll_info, sizeof record.poll_info);
        if (status < 0) {  // STATUS_PENDING, or success: the completion comes on the port
            return os_error("NtDeviceIoControlFile", RtlNtStatusToDosError(status));
        }
        record.pending = true;
        return {};
    }

    // Asks the OS to end the record's pending poll; it completes with STATUS_CANCELLED, or
    // with its answer if it was answered first (ERROR_NOT_FOUND then: nothing to cancel).
    PollError cancel(Record& record) {
        auto* overlapped = reinterpret_cast<OVERLAPPED*>(&record.status_block);
        if (!CancelIoEx(afd, overlapped) && GetLastError() != ERROR_NOT_FOUND) {
            return os_error("CancelIoEx", GetLastError());
        }
        return {};
    }
};

Selector::Selector(PollError& error) : state_(std::make_unique<State>()) {
    // A new port: no file yet, no completion key; one thread runs completions at a time.
    state_->port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
    if (state_->port == nullptr) {  // NULL on failure, not INVALID_HANDLE_VALUE
        error = os_error("CreateIoCompletionPort", GetLastError());
        return;
    }
    // A handle on the AFD driver itself, not on a socket: every poll is sent through it
    // (afd.h's open_afd_device says how it is opened, one step at a time).
    const NTSTATUS status = open_afd_device(&state_->afd, L"\\Device\\Afd\\Ch03Poll");
    if (status < 0) {
        state_->afd = nullptr;
        error = os_error("NtCreateFile", RtlNtStatusToDosError(status));
        return;
    }
    if (CreateIoCompletionPort(state_->afd, state_->port, 0, 0) == nullptr) {  // one key
        error = os_error("CreateIoCompletionPort", GetLastError());
    }
}

Selector::~Selector() {
    // Every pending poll is cancelled, and its completion awaited: until it arrives, the OS
    // may still write its answer into a record.
    std::size_t pending = state_->cancelled.size();
    for (auto& [id, record] : state_->records) {
        pending += record->pending ? 1 : 0;
    }
    if (state_->afd != nullptr && pending > 0) {
        CancelIoEx(state_->afd, nullptr);  // all of them
        OVERLAPPED_ENTRY entries[64];
        ULONG count = 0;
        while (pending > 0 && GetQueuedCompletionStatusEx(state_->port, entries, 64, &count,
                                                          drain_timeout_ms, FALSE)) {
            for (ULONG index = 0; index < count; ++index) {
                pending -= entries[index].lpOverlapped != nullptr ? 1 : 0;  // not a wake
            }
        }
    }
    for (HANDLE handle : {state_->afd, state_->port}) {
        if (handle != nullptr && !CloseHandle(handle)) {
            report_failed_close(os_error("CloseHandle", GetLastError()));
        }
    }
}

PollError Selector::add(RawSocket socket, std::uint64_t id, Interest interest) {
    // The driver knows a socket by its base handle: a layered service provider (a
    // firewall's, say) may have handed us its own on top. wepoll, mio and libuv ask too.
    auto record = std::make_unique<Record>();
    DWORD size = 0;
    if (WSAIoctl(static_cast<SOCKET>(socket), SIO_BASE_HANDLE, nullptr, 0, &record->base_socket,
                 sizeof record->base_socket, &size, nullptr, nullptr) == SOCKET_ERROR) {
        if (WSAGetLastError() == WSAENOTSOCK) {
            return {PollErrc::not_a_socket};  // closed, or never a socket
        }
        return os_error("WSAIoctl", WSAGetLastError());
    }
    record->id = id;
    record->wanted = interest;
    const std::lock_guard lock(state_->mutex);
    if (PollError error = state_->send_poll(*record)) {
        if (error.os_error == ERROR_INVALID_HANDLE) {
            return {PollErrc::not_a_socket};  // Wine answers SIO_BASE_HANDLE for a closed one
        }
        return error;
    }
    state_->records[id] = std::move(record);
    return {};
}

PollError Selector::modify(RawSocket, std::uint64_t id, Interest interest) {
    const std::lock_guard lock(state_->mutex);
    Record& record = *state_->records.at(id);
    record.wanted = interest;
    if (record.pending) {
        record.rearm = true;  // the new poll goes out when this one's completion is taken
        return state_->cancel(record);
    }
    return state_->send_poll(record);
}

PollError Selector::remove(RawSocket, std::uint64_t id) {
    const std::lock_guard lock(state_->mutex);
    const auto found = state_->records.find(id);
    std::unique_ptr<Record> record = std::move(found->second);
    state_->records.erase(found);
    if (!record->pending) {
        return {};  // nothing with the OS: the record goes now
    }
    record->rearm = false;
    Record& kept = *record;
    state_->cancelled[&kept] = std::move(record);  // until its completion arrives
    return state_->cancel(kept);
}

PollError Selector::select(std::vector<Event>& events, std::size_t capacity,
                           std::optional<std::chrono::milliseconds> timeout) {
    std::vector<OVERLAPPED_ENTRY> entries(capacity);
    ULONG count = 0;
    // Not alertable (FALSE): nothing else ends the wait, so there is no counterpart of
    // epoll_wait's EINTR.
    if (!GetQueuedCompletionStatusEx(
            state_->port, entries.data(), static_cast<ULONG>(capacity), &count,
            timeout ? static_cast<DWORD>(timeout->count()) : INFINITE, FALSE)) {
        if (GetLastError() == WAIT_TIMEOUT) {
            return {};
        }
        return os_error("GetQueuedCompletionStatusEx", GetLastError());
    }
    const std::lock_guard lock(state_->mutex);
    for (ULONG index = 0; index < count; ++index) {
        if (entries[index].lpOverlapped == nullptr) {
            events.push_back(Event{Token{waker_id}, true});  // PostQueuedCompletionStatus
            continue;
        }
        Record& record = *reinterpret_cast<Record*>(entries[index].lpOverlapped);
        record.pending = false;  // the OS is done with it
        if (state_->cancelled.erase(&record) > 0) {
            continue;  // deregistered: its memory could go only now
        }
        if (record.rearm) {
            record.rearm = false;  // answered or cancelled: either way, the new poll instead
            if (PollError error = state_->send_poll(record)) {
                return error;
            }
            continue;
        }
        const NTSTATUS status = record.status_block.Status;
        if (status == status_cancelled) {
            continue;
        }
        // A reset is in the answer's bits, with no status (Wine's tests show it on Windows),
        // and the socket keeps no error (SO_ERROR is 0): ABORT is how the OS says it.
        const ULONG bits = status < 0 ? 0 : record.poll_info.Handles[0].Events;
        const long os_error = (bits & AFD_POLL_ABORT) != 0 ? WSAECONNRESET : 0;
        events.push_back(
            Event{Token{record.id},
                  (bits & (AFD_POLL_RECEIVE | AFD_POLL_ACCEPT | AFD_POLL_DISCONNECT)) != 0,
                  (bits & (AFD_POLL_SEND | AFD_POLL_CONNECT_FAIL)) != 0,
                  (bits & (AFD_POLL_DISCONNECT | AFD_POLL_ABORT | AFD_POLL_LOCAL_CLOSE)) != 0,
                  (bits & (AFD_POLL_ABORT | AFD_POLL_CONNECT_FAIL)) != 0 || status < 0, os_error});
    }
    return {};
}

PollError Selector::wake() {
    // No OVERLAPPED (null): select tells a wake from an answered poll by that.
    if (!PostQueuedCompletionStatus(state_->port, 0, 0, nullptr)) {
        return os_error("PostQueuedCompletionStatus", GetLastError());
    }
    return {};
}
