// ch08-reactor-executor/hooks/program/runtime_hooks.hpp: the program's runtime hooks: none.
//
// reactor.hpp and awaitables.hpp call these at the two moments the runtime test must reach
// (hooks/runtime-test/runtime_hooks.hpp); the program's build puts this folder on its include
// path, so for the program they are empty and compile to nothing.
#pragma once

#include "poll.hpp"

namespace runtime_hooks {
// On the task's thread just after its socket is armed, before it suspends.
inline void after_arming(Token) {}
// On the reactor's thread after each event, with whether it woke a task.
inline void after_event(Token, bool) {}
}  // namespace runtime_hooks
