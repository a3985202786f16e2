# CMockaTarget.cmake: provides the target cmocka::cmocka for test executables.
# Native builds use Debian's libcmocka-dev. Cross builds compile cmocka from Debian's source
# package (scripts/setup extracts it to .deps/cmocka-*) into a static library for Windows.
# Override the source location with -DCMOCKA_SOURCE_DIR=<dir>.
include_guard(GLOBAL)

if(NOT CMAKE_CROSSCOMPILING)
  find_path(CMOCKA_INCLUDE_DIR cmocka.h)
  find_library(CMOCKA_LIBRARY cmocka)
  if(NOT CMOCKA_INCLUDE_DIR OR NOT CMOCKA_LIBRARY)
    message(FATAL_ERROR "cmocka not found: install libcmocka-dev (scripts/setup does)")
  endif()
  add_library(cmocka::cmocka UNKNOWN IMPORTED)
  set_target_properties(cmocka::cmocka PROPERTIES
    IMPORTED_LOCATION "${CMOCKA_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${CMOCKA_INCLUDE_DIR}")
  return()
endif()

set(CMOCKA_SOURCE_DIR "" CACHE PATH "cmocka source tree for the Windows build (empty: .deps/cmocka-*)")
set(_cmocka_dir "${CMOCKA_SOURCE_DIR}")
if(NOT _cmocka_dir)
  file(GLOB _cmocka_dirs LIST_DIRECTORIES true "${CMAKE_SOURCE_DIR}/.deps/cmocka-*")
  list(SORT _cmocka_dirs)
  foreach(_dir IN LISTS _cmocka_dirs)
    if(IS_DIRECTORY "${_dir}")
      set(_cmocka_dir "${_dir}")
      break()
    endif()
  endforeach()
endif()
if(NOT EXISTS "${_cmocka_dir}/src/cmocka.c")
  message(FATAL_ERROR "cmocka source not found (CMOCKA_SOURCE_DIR='${_cmocka_dir}'): "
                      "run scripts/setup, which extracts it to ${CMAKE_SOURCE_DIR}/.deps/")
endif()

# cmocka.c needs only these of its config.h answers on MinGW-w64; without
# HAVE_STRUCT_TIMESPEC it reports no run times, which spares us libwinpthread.
add_library(dosvc_cmocka STATIC "${_cmocka_dir}/src/cmocka.c")
target_compile_definitions(dosvc_cmocka
  PRIVATE HAVE_MALLOC_H HAVE_INTTYPES_H HAVE_SIGNAL_H HAVE_STRINGS_H HAVE_GCC_THREAD_LOCAL_STORAGE
  PUBLIC CMOCKA_STATIC)  # newer cmocka.h declares dllimport unless CMOCKA_STATIC; 1.1.5 never does
target_compile_options(dosvc_cmocka PRIVATE -w)  # third-party code: keep our warning flags off it
target_include_directories(dosvc_cmocka SYSTEM PUBLIC "${_cmocka_dir}/include")
add_library(cmocka::cmocka ALIAS dosvc_cmocka)
unset(_cmocka_dir)
unset(_cmocka_dirs)
