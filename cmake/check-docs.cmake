# cmake -DSOURCE_DIR=<top of the repository> -P check-docs.cmake
#
# Checks the workspace's Markdown (README.md files and docs/) so that what a reader
# follows exists:
#   - every relative link points to an existing file; a link to a heading of a Markdown
#     file (file.md#heading) names a heading that file has;
#   - a link whose text is a name in backticks and whose target is a source file, such as
#     [`wait_loop`](../ch03-epoll/main.cpp), points to a file that defines that name;
#   - in ```sh blocks, `./run-example NAME ...` names an example folder, and every --option
#     after it is one that example's sources accept; `--preset NAME` names a preset of
#     CMakePresets.json; a build/<preset>/<folder>/... path names a preset and a folder;
#   - a time measured by bench/ (a figure in ns or µs) is written only on the page bench/run
#     writes, docs/benchmarks.md (and in its template): elsewhere the prose links to it, so
#     that no copy of a figure is left behind when the page is measured again.
cmake_minimum_required(VERSION 3.25)

file(GLOB markdown_files RELATIVE ${SOURCE_DIR} ${SOURCE_DIR}/*.md ${SOURCE_DIR}/*/README.md
     ${SOURCE_DIR}/docs/*.md)
file(READ ${SOURCE_DIR}/CMakePresets.json presets_json)
string(REGEX MATCHALL "\"name\": \"[a-z0-9_-]+\"" preset_names "${presets_json}")
string(REGEX REPLACE "\"name\": \"([a-z0-9_-]+)\"" "\\1" preset_names "${preset_names}")

set(problems "")
set(checked_links 0)
set(checked_commands 0)

foreach(markdown IN LISTS markdown_files)
  get_filename_component(directory ${SOURCE_DIR}/${markdown} DIRECTORY)
  file(READ ${SOURCE_DIR}/${markdown} text)

  # Measured times belong to docs/benchmarks.md, which bench/run writes.
  if(NOT markdown STREQUAL "docs/benchmarks.md")
    string(REGEX MATCHALL "[0-9][0-9.,]* ?(ns|µs)[^A-Za-z0-9]" figures "${text}")
    foreach(figure IN LISTS figures)
      list(APPEND problems "${markdown}: '${figure}' is a measured time: write it in "
                           "bench/ (docs/benchmarks.md) and link to it")
    endforeach()
  endif()

  # Links: [text](target), relative targets only.
  string(REGEX MATCHALL "\\[[^]\n]*\\]\\([^)\n ]+\\)" links "${text}")
  foreach(link IN LISTS links)
    string(REGEX REPLACE "^\\[([^]]*)\\]\\(([^)]+)\\)$" "\\1" link_text "${link}")
    string(REGEX REPLACE "^\\[([^]]*)\\]\\(([^)]+)\\)$" "\\2" target "${link}")
    if(target MATCHES "^[a-z]+:")
      continue()  # http:, https:, mailto: are not checked here (no network in CI)
    endif()
    math(EXPR checked_links "${checked_links} + 1")
    string(REGEX REPLACE "#.*$" "" path "${target}")
    string(REGEX MATCH "#.*$" anchor "${target}")
    if(path STREQUAL "")
      set(path_file ${SOURCE_DIR}/${markdown})
    else()
      get_filename_component(path_file ${directory}/${path} ABSOLUTE)
    endif()
    if(NOT EXISTS ${path_file})
      list(APPEND problems "${markdown}: link to ${target}: no such file")
      continue()
    endif()
    if(anchor AND path_file MATCHES "\\.md$")
      string(SUBSTRING "${anchor}" 1 -1 anchor)
      # GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes.
      file(STRINGS ${path_file} anchors REGEX "^#+ ")
      string(TOLOWER ";${anchors}" anchors)
      string(REGEX REPLACE ";#+ +" ";" anchors "${anchors}")
      string(REGEX REPLACE "[^a-z0-9 _;-]" "" anchors "${anchors}")
      string(REPLACE " " "-" anchors "${anchors}")
      if(NOT anchor IN_LIST anchors)
        list(APPEND problems "${markdown}: link to ${target}: no such heading")
      endif()
    endif()
    # (The name is matched last: each MATCHES resets CMAKE_MATCH_1.)
    if(path_file MATCHES "\\.(cpp|h|hpp)$" AND link_text MATCHES "^`([A-Za-z_][A-Za-z0-9_]*)`$")
      set(name "${CMAKE_MATCH_1}")
      file(READ ${path_file} source)
      if(NOT source MATCHES "[^A-Za-z0-9_]${name}[ (]")
        list(APPEND problems "${markdown}: `${name}` is not defined in ${path}")
      endif()
    endif()
  endforeach()

  # Commands: the lines of ```sh blocks.
  string(REGEX MATCHALL "```sh\n[^`]*```" blocks "${text}")
  foreach(block IN LISTS blocks)
    string(REPLACE "\n" ";" block_lines "${block}")
    foreach(line IN LISTS block_lines)
      string(REGEX REPLACE "[ ]+#.*$" "" line "${line}")  # a trailing comment (fences match nothing)
      if(line MATCHES "\\./run-example ([a-z0-9_-]+)(.*)$")
        math(EXPR checked_commands "${checked_commands} + 1")
        set(example "${CMAKE_MATCH_1}")
        set(arguments "${CMAKE_MATCH_2}")
        # A folder may build more than one program, named after it and in its CMakeLists.txt
        # (ch07-coroutine-by-hand-co-await): the folder is the longest such prefix.
        set(program "${example}")
        while(NOT EXISTS ${SOURCE_DIR}/${example}/CMakeLists.txt AND example MATCHES "-[a-z0-9_]+$")
          string(REGEX REPLACE "-[a-z0-9_]+$" "" example "${example}")
        endwhile()
        set(folder_build "")
        if(EXISTS ${SOURCE_DIR}/${example}/CMakeLists.txt)
          file(READ ${SOURCE_DIR}/${example}/CMakeLists.txt folder_build)
        endif()
        if(NOT folder_build MATCHES "(^|[^a-z0-9_-])${program}([^a-z0-9_-]|$)")
          list(APPEND problems "${markdown}: ./run-example ${program}: no such example")
          continue()
        endif()
        # The example's own sources, and the support every program shares (support/: the
        # event-queue examples' options are parsed there).
        file(GLOB example_sources ${SOURCE_DIR}/${example}/*.cpp ${SOURCE_DIR}/${example}/*.hpp
             ${SOURCE_DIR}/${example}/*.h ${SOURCE_DIR}/support/*.hpp)
        set(all_sources "")
        foreach(source_file IN LISTS example_sources)
          file(READ ${source_file} source)
          string(APPEND all_sources "${source}")
        endforeach()
        string(REGEX MATCHALL "--[a-z][a-z-]*" options "${arguments}")
        foreach(option IN LISTS options)
          if(NOT all_sources MATCHES "\"${option}\"")
            list(APPEND problems
                 "${markdown}: ./run-example ${example} ${option}: ${example} has no such option")
          endif()
        endforeach()
      endif()
      string(REGEX MATCHALL "--preset[ =][a-z0-9_-]+" preset_uses "${line}")
      foreach(use IN LISTS preset_uses)
        math(EXPR checked_commands "${checked_commands} + 1")
        string(REGEX REPLACE "^--preset[ =]" "" preset "${use}")
        if(NOT preset IN_LIST preset_names)
          list(APPEND problems "${markdown}: --preset ${preset}: no such preset")
        endif()
      endforeach()
      string(REGEX MATCHALL "build/[a-z0-9_-]+/[a-z0-9_-]+" build_paths "${line}")
      foreach(build_path IN LISTS build_paths)
        math(EXPR checked_commands "${checked_commands} + 1")
        string(REPLACE "/" ";" parts "${build_path}")
        list(GET parts 1 preset)
        list(GET parts 2 folder)
        if(NOT preset IN_LIST preset_names)
          list(APPEND problems "${markdown}: ${build_path}: no preset ${preset}")
        elseif(NOT EXISTS ${SOURCE_DIR}/${folder}/CMakeLists.txt)
          list(APPEND problems "${markdown}: ${build_path}: no folder ${folder}")
        endif()
      endforeach()
    endforeach()
  endforeach()
endforeach()

list(LENGTH markdown_files file_count)
if(problems)
  string(REPLACE ";" "\n  " listing "${problems}")
  message(FATAL_ERROR "Broken links or commands, or copied figures, in the docs:\n  ${listing}")
endif()
message("${file_count} Markdown files: ${checked_links} links and ${checked_commands} "
        "commands checked, all resolve")
