# tm_add_test(NAME <name> SOURCES <files...> LABELS <unit|integration|cluster|gui|bench...>
#             [LIBS <targets...>] [TIMEOUT <seconds>] [ENVIRONMENT <VAR=value...>]
#             [WRAPPER <command...>] [DEPENDS <targets...>])
# Builds one Qt Test executable and registers it with ctest under its labels. WRAPPER runs the
# test binary through a command (the cluster tests: with-cluster.sh starts a cluster around it);
# DEPENDS names the binaries the test runs (server, tm-load), built before it.
function(tm_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LABELS;LIBS;ENVIRONMENT;WRAPPER;DEPENDS" ${ARGN})
  if(NOT T_NAME OR NOT T_SOURCES OR NOT T_LABELS)
    message(FATAL_ERROR "tm_add_test needs NAME, SOURCES and LABELS")
  endif()
  qt_add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE Qt6::Test tm_strict ${T_LIBS})
  add_test(NAME ${T_NAME} COMMAND ${T_WRAPPER} $<TARGET_FILE:${T_NAME}>)
  if(T_DEPENDS)
    add_dependencies(${T_NAME} ${T_DEPENDS})
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "QT_QPA_PLATFORM=offscreen;QT_QUICK_BACKEND=software;${T_ENVIRONMENT}")
endfunction()
