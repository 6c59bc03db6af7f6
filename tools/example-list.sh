# tools/example-list.sh: reading <build>/examples.tsv, the list of examples a configure step
# writes. Sourced by ./run-example and by tools/check-example-list.sh (the test example-list),
# so that the test reads the list exactly as ./run-example does. The format is stated once,
# in cmake/ExampleList.cmake: tab-separated lines, the first field saying what each line is.

# list_names LIST: the name of every example in LIST, one a line.
list_names() {
  awk -F'\t' '$1 == "example" { print $2 }' "$1"
}

# list_example LIST NAME: the line of example NAME, or nothing.
list_example() {
  awk -F'\t' -v name="$2" '$1 == "example" && $2 == name' "$1"
}

# list_setting LIST KEY: what follows KEY and its tab on KEY's line (emulator, delayserver,
# delayserver-targets), tabs kept.
list_setting() {
  awk -F'\t' -v key="$2" '$1 == key { sub(/^[^\t]*\t/, ""); print }' "$1"
}

# line_field LINE N: field N of an example's line: 3 is built or skipped; 4 the program, or
# why it is skipped; 5 what it needs (delayserver or -), or the preset that builds it instead.
line_field() {
  cut -f"$2" <<<"$1"
}
