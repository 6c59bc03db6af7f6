// ch08-reactor-executor/hooks/runtime-test/runtime_hooks.hpp: the runtime test's hooks.
//
// The same two calls as hooks/program/runtime_hooks.hpp, which the program's build uses; the
// test's build puts this folder on its include path instead, and runtime_test.cpp defines
// them: the lost wakeup is made to happen between arming and suspending, every time.
#pragma once

#include "poll.hpp"

namespace runtime_hooks {
// On the task's thread just after its socket is armed, before it suspends.
void after_arming(Token token);
// On the reactor's thread after each event, with whether it woke a task.
void after_event(Token token, bool woke_a_task);
}  // namespace runtime_hooks
