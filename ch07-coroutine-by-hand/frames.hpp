// ch07-coroutine-by-hand/frames.hpp: with_co_await.cpp's --show-frames: each coroutine frame
// as the promise's operator new allocates it and its operator delete frees it, where a
// coroutine's locals and its awaiter are (in which frame, at which offset), and at the end
// how many coroutines were started and frames allocated and freed.
//
// Sizes and offsets are the compiler's choice (GCC and clang lay frames out differently),
// and vary with the target: the tests match them as numbers.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <new>
#include <string>
#include <vector>

class FrameLog {
  public:
    bool showing = false;  // --show-frames

    void* allocate(std::size_t size) {
        void* frame = ::operator new(size);
        live.push_back(Frame{static_cast<const char*>(frame), size, ++allocated});
        if (showing) {
            std::printf("[frame #%d: %zu bytes allocated]\n", allocated, size);
        }
        return frame;
    }

    void free(void* frame) {
        const auto found = std::ranges::find(live, static_cast<const char*>(frame), &Frame::start);
        if (showing && found != live.end()) {
            std::printf("[frame #%d: freed]\n", found->number);
        }
        if (found != live.end()) {
            live.erase(found);
        }
        ++freed;
        ::operator delete(frame);  // clang declares the sized one only with -fsized-deallocation
    }

    void count_started() {
        ++started;
    }

    // Where `address` is: inside one of the frames alive now, or not in any (on a stack).
    void show_local(const char* coroutine, const char* name, const void* address) const {
        if (showing) {
            std::printf("[%s's %s: %s]\n", coroutine, name, where(address).c_str());
        }
    }
    void show_awaiter(const void* address) const {
        if (showing) {
            std::printf("[the co_await's awaiter, which owns the future: %s]\n",
                        where(address).c_str());
        }
    }

    // After the last Task is gone: every coroutine started had one frame, and all are freed.
    int report_at_exit() const {
        if (showing) {
            std::printf("[%d coroutines started, %d frames allocated, %d freed]\n", started,
                        allocated, freed);
        }
        return started == allocated && allocated == freed ? 0 : 1;
    }

  private:
    struct Frame {
        const char* start;
        std::size_t size;
        int number;
    };

    std::string where(const void* address) const {
        const char* byte = static_cast<const char*>(address);
        for (const Frame& frame : live) {
            if (byte >= frame.start && byte < frame.start + frame.size) {
                return "in frame #" + std::to_string(frame.number) + " at offset " +
                       std::to_string(byte - frame.start);
            }
        }
        return "in no frame";
    }

    std::vector<Frame> live;
    int started = 0;
    int allocated = 0;
    int freed = 0;
};

inline FrameLog frames;
