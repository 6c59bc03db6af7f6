// ch03-poll/made.hpp: MadeOr<T, Error>, an object made, or the error that says why it was not.
//
// Poll::open and Waker::make return it (poll.hpp), so that no Poll or Waker exists that
// cannot be used. Nothing in it names an OS: it is kept out of poll.hpp, whose lines are the
// contract.
#pragma once

#include <optional>
#include <utility>

// What a factory returns: the object, made, or the error that says why it was not (C++20 has
// no std::expected). Test it before use: if (!made) { ...made.error()... }. poll.hpp names it
// Made<T>, with Poll's PollError.
template <typename T, typename Error>
class MadeOr {
  public:
    MadeOr(T&& value) : value_(std::move(value)) {}
    MadeOr(Error error) : error_(error) {}
    explicit operator bool() const {
        return value_.has_value();
    }
    T& operator*() {
        return *value_;
    }
    const Error& error() const {
        return error_;
    }

  private:
    std::optional<T> value_;
    Error error_;
};
