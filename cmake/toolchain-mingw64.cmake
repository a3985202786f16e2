# toolchain-mingw64.cmake: cross compile dosvc for 64-bit Windows with Debian's MinGW-w64.
# libgcc and the C runtime helpers link statically, so the DLL and test executables need no
# MinGW runtime DLLs. Executables (tests, try_run) run under Wine through cmake/wine-run.
#   cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-mingw64.cmake ...   (or: --preset windows)
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(DOSVC_MINGW_TRIPLE x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${DOSVC_MINGW_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${DOSVC_MINGW_TRIPLE}-g++)
set(CMAKE_RC_COMPILER ${DOSVC_MINGW_TRIPLE}-windres)

# Look for target libraries and headers only in the MinGW sysroot, for programs only on the host.
set(CMAKE_FIND_ROOT_PATH /usr/${DOSVC_MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static -static-libgcc")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-static -static-libgcc")

set(CMAKE_CROSSCOMPILING_EMULATOR "${CMAKE_CURRENT_LIST_DIR}/wine-run")
