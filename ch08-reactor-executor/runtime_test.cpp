// ch08-reactor-executor/runtime_test.cpp: where the runtime can go wrong, case by case.
//
// One line per case, "ok" or "FAIL" and why (expected-runtime-test.txt); exit code 1 at the
// first failure. No case depends on timing: the lost wakeup is made to happen with a hook
// (this test's build defines runtime_hooks, hooks/runtime-test/) that fires the event between
// arming and suspending and waits until the reactor has taken it, every time; the others count and
// compare. Each case has its own executor (on main) and reactor (on its thread), as main.cpp has.
//
// Usage:    ch08-reactor-executor-test       (no arguments)
// Platform: every backend ch08-reactor-executor runs on; under TSan and ASan in those builds.
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "awaitables.hpp"

[[noreturn]] void fail(std::string_view call, const std::string& message) {
    std::printf("FAIL %.*s: %s\n", static_cast<int>(call.size()), call.data(), message.c_str());
    std::fflush(stdout);  // before LeakSanitizer, which ends the process its own way at exit
    std::exit(1);
}

namespace {

// Generous: a case that passes ends long before; one that lost a task fails here, not hangs.
constexpr std::chrono::seconds case_bound{60};

void connected(Socket& one, Socket& other) {
    if (!connected_pair(one, other)) {
        fail("connected_pair", socket_error_message(last_socket_error()));
    }
}

// Reads one byte, waiting for the reactor while there is none. `entering` is called each
// time the task runs again after a wait.
template <typename Entering>
Task receive_byte(TcpStream& stream, Entering entering) {
    char byte = 0;
    while (true) {
        const long count = receive_some(stream.socket, std::span(&byte, 1));
        if (count == 1) {
            co_return;
        }
        if (count != would_block) {
            fail("recv",
                 count == 0 ? "the end of the stream" : socket_error_message(last_socket_error()));
        }
        co_await readable(stream);
        entering();
    }
}

// ----------------------------------------------------------------------------------------
// A wake that comes before the task has suspended is not lost
// ----------------------------------------------------------------------------------------

constexpr Token lost_wakeup_token{7};
Socket* lost_wakeup_peer = nullptr;
std::mutex event_mutex;
std::condition_variable event_taken;
std::optional<bool> event_woke_a_task;  // set by the reactor's thread for lost_wakeup_token

// On the task's thread, inside await_suspend, just after the socket was armed: the peer sends
// a byte, so the socket is readable at once, and the task waits here until the reactor has
// taken that event. The task is not suspended yet as the executor sees it: resume() has not
// returned. If the waker were set after the arming, the reactor would have found none.
void send_and_wait_for_the_reactor(Token token) {
    if (!(token == lost_wakeup_token)) {
        return;
    }
    if (send_some(*lost_wakeup_peer, "x") != 1) {
        fail("send", socket_error_message(last_socket_error()));
    }
    std::unique_lock lock(event_mutex);
    event_taken.wait(lock, [] { return event_woke_a_task.has_value(); });
    if (!*event_woke_a_task) {
        fail("lost wakeup",
             "the reactor took the event before the task suspended and found no waker");
    }
}

void reactor_took(Token token, bool woke_a_task) {
    if (token == lost_wakeup_token) {
        const std::lock_guard lock(event_mutex);
        event_woke_a_task = woke_a_task;
        event_taken.notify_all();
    }
}

// The hooks this test's build gives the runtime (hooks/runtime-test/runtime_hooks.hpp, defined
// below this namespace): what each case sets, nothing when none does.
void (*after_arming_for_tests)(Token token) = [](Token) {};
void (*after_event_for_tests)(Token token, bool woke_a_task) = [](Token, bool) {};

Task wait_for_one_byte(Socket socket, bool& received) {
    TcpStream stream(lost_wakeup_token);
    stream.socket = std::move(socket);
    co_await receive_byte(stream, [] {});
    received = true;
}

void case_lost_wakeup() {
    Socket one;
    Socket other;
    connected(one, other);
    lost_wakeup_peer = &other;
    after_arming_for_tests = send_and_wait_for_the_reactor;
    after_event_for_tests = reactor_took;
    bool received = false;
    {
        Executor executor;
        Reactor reactor;
        if (!executor.block_on(wait_for_one_byte(std::move(one), received),
                               Clock::now() + case_bound)) {
            fail("lost wakeup", "the task was never resumed");
        }
    }
    after_arming_for_tests = [](Token) {};
    after_event_for_tests = [](Token, bool) {};
    if (!event_woke_a_task || !received) {
        fail("lost wakeup", "the hook did not run in the window, or the byte was not read");
    }
    std::printf("ok   a wake that comes between arming and suspending is not lost\n");
}

// ----------------------------------------------------------------------------------------
// Tasks resume only on the executor's thread, one at a time; sockets deregistered at the end
// ----------------------------------------------------------------------------------------

constexpr int pairs = 8;
constexpr int round_trips = 100;
std::thread::id executor_thread;
std::atomic<bool> a_task_is_running = false;
std::atomic<int> resumes = 0;
std::atomic<int> wrong_resumes = 0;

// Called when a task runs again after a wait: on the executor's thread, and no other task
// running at the same time (then `leaving` before it waits again or ends).
void entering() {
    ++resumes;
    if (std::this_thread::get_id() != executor_thread || a_task_is_running.exchange(true)) {
        ++wrong_resumes;
    }
}
void leaving() {
    a_task_is_running = false;
}

// One side of a pair: a byte sent, a byte received, round_trips times; the other side starts
// by receiving. Each receive mostly waits for the reactor.
Task ping_pong(Socket socket, std::size_t token, bool sends_first) {
    TcpStream stream(Token{token});
    stream.socket = std::move(socket);
    auto on_resume = [] {
        entering();
        leaving();
    };
    for (int round = 0; round < round_trips; ++round) {
        if (sends_first && send_some(stream.socket, "p") != 1) {
            fail("send", "the byte was not sent");
        }
        co_await receive_byte(stream, on_resume);
        if (!sends_first && send_some(stream.socket, "p") != 1) {
            fail("send", "the byte was not sent");
        }
    }
}

Task start_pairs(std::vector<Socket>& sockets) {
    for (std::size_t index = 0; index < sockets.size(); ++index) {
        spawn(ping_pong(std::move(sockets[index]), index, index % 2 == 0));
    }
    co_return;
}

void case_one_thread_resumes() {
    std::vector<Socket> sockets(2 * pairs);
    std::vector<RawSocket> raw;
    for (int pair = 0; pair < pairs; ++pair) {
        connected(sockets[2 * pair], sockets[2 * pair + 1]);
        raw.push_back(sockets[2 * pair].get());
        raw.push_back(sockets[2 * pair + 1].get());
    }
    executor_thread = std::this_thread::get_id();
    Executor executor;
    Reactor reactor;
    if (!executor.block_on(start_pairs(sockets), Clock::now() + case_bound)) {
        fail("ping-pong", "the tasks did not end");
    }
    if (wrong_resumes != 0 || resumes == 0) {
        fail("ping-pong", std::to_string(wrong_resumes) + " of " + std::to_string(resumes) +
                              " resumes were not on the executor's thread, or overlapped");
    }
    std::printf(
        "ok   tasks resume only on the executor's thread, one at a time (%d pairs, %d "
        "round trips each)\n",
        pairs, round_trips);
    // Every task has ended, so its TcpStream has deregistered its socket, then closed it: Poll
    // no longer knows any of them (no socket has been opened since, to take their numbers).
    for (const RawSocket socket : raw) {
        if (reactor.registry().deregister(socket).code != PollErrc::not_registered) {
            fail("deregister", "a task's socket was still registered after the task ended");
        }
    }
    std::printf(
        "ok   a task's socket is deregistered when the task ends: Poll no longer knows it\n");
}

}  // namespace

void runtime_hooks::after_arming(Token token) {
    after_arming_for_tests(token);
}
void runtime_hooks::after_event(Token token, bool woke_a_task) {
    after_event_for_tests(token, woke_a_task);
}

int main() {
    this_thread_name = "main";
    const SocketLibrary socket_library;
    case_lost_wakeup();
    case_one_thread_resumes();
    // Each case's ~Reactor woke its thread with Poll's Waker and joined it: a std::thread
    // destroyed unjoined would have ended the program (std::terminate), and one that did not
    // stop would have kept join waiting until the test's timeout.
    std::printf("ok   the reactor's thread stops and is joined when the reactor goes away\n");
    return 0;
}
