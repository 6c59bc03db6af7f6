#!/usr/bin/env bash
# tools/check-example-list.sh LIST SOURCE_DIR: the test example-list. Reads LIST, a build's
# examples.tsv, with the functions ./run-example reads it with (tools/example-list.sh), and
# checks that it says what cmake/ExampleList.cmake promises:
#   - every line is a comment or one of emulator, delayserver, delayserver-targets, example,
#     and the three settings are there once each;
#   - every example folder of the top-level CMakeLists.txt (add_subdirectory(chNN-...)), and
#     in a native build delayserver, has one line, found by its name;
#   - a built example's program is an executable file (the test runs after the build) and it
#     needs delayserver or -; a skipped one says why, and names a preset of
#     CMakePresets.json or nothing;
#   - the delay server's launcher and server, when given, are executable files.
# Prints one line per problem and exits 1, or prints what it checked and exits 0.
set -uo pipefail
list=$1
source_dir=$2
source "$source_dir/tools/example-list.sh"

problems=0
problem() {
  echo "$list: $*"
  problems=$((problems + 1))
}

if [ ! -f "$list" ]; then
  echo "$list: no such file (the configure step writes it)"
  exit 1
fi
while IFS= read -r line; do
  case "$(line_field "$line" 1)" in
    "#"* | emulator | delayserver | delayserver-targets | example) ;;
    *) problem "a line of no known kind: '$line'" ;;
  esac
done <"$list"
for key in emulator delayserver delayserver-targets; do
  count=$(awk -F'\t' -v key="$key" '$1 == key' "$list" | wc -l)
  [ "$count" -eq 1 ] || problem "$count lines for $key, not 1"
done

presets=$(sed -n 's/^ *"name": "\([a-z0-9-]*\)".*/\1/p' "$source_dir/CMakePresets.json")
folders=$(sed -n 's/^add_subdirectory(\(ch[0-9][0-9]-[a-z0-9-]*\)).*/\1/p' "$source_dir/CMakeLists.txt")
checked=0
# The delay server is an example of a native build; a cross build (one with an emulator)
# builds it for the build machine only (host-tools), and lists it not.
if [ -z "$(list_setting "$list" emulator)" ]; then
  folders="$folders delayserver"
fi
for name in $folders; do
  line=$(list_example "$list" "$name")
  if [ -z "$line" ]; then
    problem "no line for $name"
    continue
  fi
  [ "$(wc -l <<<"$line")" -eq 1 ] || problem "more than one line for $name"
  [ "$(awk -F'\t' '{ print NF }' <<<"$line")" -eq 5 ] || problem "$name: not 5 fields: '$line'"
  state=$(line_field "$line" 3)
  fourth=$(line_field "$line" 4)
  fifth=$(line_field "$line" 5)
  case "$state" in
    built)
      [ -x "$fourth" ] || problem "$name: the program '$fourth' is not an executable file"
      case "$fifth" in delayserver | -) ;; *) problem "$name needs '$fifth'" ;; esac
      ;;
    skipped)
      [ -n "$fourth" ] || problem "$name: skipped, and no reason given"
      if [ -n "$fifth" ] && ! grep -qx -- "$fifth" <<<"$presets"; then
        problem "$name: built by preset '$fifth', which CMakePresets.json does not have"
      fi
      ;;
    *) problem "$name: '$state', neither built nor skipped" ;;
  esac
  checked=$((checked + 1))
done
IFS=$'\t' read -r launcher server <<<"$(list_setting "$list" delayserver)"
for program in ${launcher:+"$launcher"} ${server:+"$server"}; do
  [ -x "$program" ] || problem "the delay server's '$program' is not an executable file"
done
if [ -n "${launcher:-}" ] && [ -z "$(list_setting "$list" delayserver-targets)" ]; then
  problem "a delay server, and no target that builds it"
fi

if [ "$problems" -gt 0 ]; then
  exit 1
fi
echo "$list: $checked examples and the settings read as ./run-example reads them, all as promised"
