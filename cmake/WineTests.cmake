# WineTests.cmake: registers dosvc's tests with ctest.
#   dosvc_add_test(NAME n SOURCES f... [LIBS t...] [WINE_ONLY] [RESOURCE_LOCK r] [TIMEOUT s])
#   dosvc_add_wine_command_test(NAME n COMMAND args... [RESOURCE_LOCK r] [TIMEOUT s])
#   dosvc_test_timeout(test seconds)
# When cross compiling, tests run under Wine in one prefix per build tree
# (<build>/wineprefix, see cmake/wine-run), booted once per ctest run by the fixture
# `wineprefix`; drivers find the emulator in DOSVC_WINE_RUN.
# Every TIMEOUT is a base in seconds that ctest multiplies by DOSVC_TEST_TIME_SCALE as it finds
# it when it runs, the variable the tests scale their own deadlines by: cmake/time-scale, the
# last directory the top CMakeLists.txt adds, does it for every test registered before.
include_guard(GLOBAL)
enable_testing()

set(DOSVC_WINE_RUN "${CMAKE_CURRENT_LIST_DIR}/wine-run")

# A test's TIMEOUT: seconds at DOSVC_TEST_TIME_SCALE 1.
function(dosvc_test_timeout test seconds)
  set_tests_properties(${test} PROPERTIES TIMEOUT ${seconds})
  set_property(GLOBAL APPEND PROPERTY DOSVC_TEST_TIMEOUTS "${test}=${seconds}")
endfunction()

if(CMAKE_CROSSCOMPILING)
  # First boot of a new prefix takes ~5-10 s; later runs reuse it and take under a second.
  add_test(NAME wineprefix.start COMMAND "${DOSVC_WINE_RUN}" --boot)
  add_test(NAME wineprefix.stop COMMAND "${DOSVC_WINE_RUN}" --kill)
  set_tests_properties(wineprefix.start PROPERTIES FIXTURES_SETUP wineprefix)
  set_tests_properties(wineprefix.stop PROPERTIES FIXTURES_CLEANUP wineprefix)
  dosvc_test_timeout(wineprefix.start 300)
  dosvc_test_timeout(wineprefix.stop 60)
  set_tests_properties(wineprefix.start wineprefix.stop PROPERTIES
    ENVIRONMENT "DOSVC_BUILD_DIR=${CMAKE_BINARY_DIR}")
endif()

function(_dosvc_test_properties name lock timeout)
  if(NOT timeout)
    set(timeout 120)
  endif()
  dosvc_test_timeout(${name} ${timeout})
  set_tests_properties(${name} PROPERTIES ENVIRONMENT
    "DOSVC_BUILD_DIR=${CMAKE_BINARY_DIR};CMOCKA_MESSAGE_OUTPUT=stdout;UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
  if(lock)
    set_tests_properties(${name} PROPERTIES RESOURCE_LOCK ${lock})
  endif()
  if(CMAKE_CROSSCOMPILING)
    set_tests_properties(${name} PROPERTIES FIXTURES_REQUIRED wineprefix)
  endif()
endfunction()

# A CMocka test executable. WINE_ONLY tests are built only when cross compiling.
function(dosvc_add_test)
  cmake_parse_arguments(PARSE_ARGV 0 arg "WINE_ONLY" "NAME;RESOURCE_LOCK;TIMEOUT" "SOURCES;LIBS")
  if(NOT arg_NAME OR NOT arg_SOURCES)
    message(FATAL_ERROR "dosvc_add_test: NAME and SOURCES are required")
  endif()
  if(arg_WINE_ONLY AND NOT CMAKE_CROSSCOMPILING)
    return()
  endif()
  add_executable(${arg_NAME} ${arg_SOURCES})
  target_link_libraries(${arg_NAME} PRIVATE ${arg_LIBS} cmocka::cmocka)
  add_test(NAME ${arg_NAME} COMMAND ${arg_NAME})  # a target: ctest prepends the emulator
  _dosvc_test_properties(${arg_NAME} "${arg_RESOURCE_LOCK}" "${arg_TIMEOUT}")
endfunction()

# A driver command (shell, python) that runs Windows programs itself through DOSVC_WINE_RUN.
# Registered only when cross compiling.
function(dosvc_add_wine_command_test)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "NAME;RESOURCE_LOCK;TIMEOUT" "COMMAND")
  if(NOT arg_NAME OR NOT arg_COMMAND)
    message(FATAL_ERROR "dosvc_add_wine_command_test: NAME and COMMAND are required")
  endif()
  if(NOT CMAKE_CROSSCOMPILING)
    return()
  endif()
  add_test(NAME ${arg_NAME} COMMAND ${arg_COMMAND})
  _dosvc_test_properties(${arg_NAME} "${arg_RESOURCE_LOCK}" "${arg_TIMEOUT}")
endfunction()
