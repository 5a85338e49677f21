# tm_set_strict(<target>): the warnings and Qt defines every TaskMaster target is built with.
add_library(tm_strict INTERFACE)
target_compile_definitions(tm_strict INTERFACE
  QT_NO_CAST_FROM_ASCII
  QT_NO_CAST_TO_ASCII
  QT_NO_URL_CAST_FROM_STRING
  QT_NO_FOREACH
  QT_NO_KEYWORDS
  QT_NO_NARROWING_CONVERSIONS_IN_CONNECT
  QT_USE_QSTRINGBUILDER)
target_compile_options(tm_strict INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
  -Wold-style-cast -Wcast-align -Woverloaded-virtual)
if(TM_WERROR)
  target_compile_options(tm_strict INTERFACE -Werror)
endif()

# TM_SANITIZE="address;undefined" (or "thread", ...): build every TaskMaster target with those
# sanitizers and frame pointers, for readable stacks (docs/operations.md). Empty: none.
set(TM_SANITIZE "" CACHE STRING "Sanitizers to build with, e.g. address;undefined (empty: none)")
if(TM_SANITIZE)
  list(JOIN TM_SANITIZE "," tm_sanitize_list)
  target_compile_options(tm_strict INTERFACE -fsanitize=${tm_sanitize_list} -fno-omit-frame-pointer)
  target_link_options(tm_strict INTERFACE -fsanitize=${tm_sanitize_list})
  # A finding stops the run (and fails the test) instead of printing and going on.
  target_compile_options(tm_strict INTERFACE -fno-sanitize-recover=all)
  # But for nonnull-attribute, so that UBSAN_OPTIONS=suppressions= can pass over Qt 6.4's own
  # memcmp(nullptr, p, 0) when two empty QLists compare (scripts/sanitizers/ubsan.supp); with
  # halt_on_error=1 every other report of it still stops the run.
  if("undefined" IN_LIST TM_SANITIZE)
    target_compile_options(tm_strict INTERFACE -fsanitize-recover=nonnull-attribute)
  endif()
endif()
# TM_FUZZ (clang): libFuzzer's coverage instrumentation in every TaskMaster target, so the fuzz
# targets (fuzz/) see which branches of the parsers an input reached.
if(TM_FUZZ)
  target_compile_options(tm_strict INTERFACE -fsanitize=fuzzer-no-link)
endif()
