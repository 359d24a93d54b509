# Layering: every library sees only its own folder and the folders of the libraries it declares.
# The build tree holds one include directory per library, ${CMAKE_BINARY_DIR}/include/<target>,
# with a single link <folder> -> the source folder; it is the library's PUBLIC include directory
# (never the repository root), so a consumer inherits the folders of what it links and nothing
# else: `#include "nn/flow.hpp"` in lens/ fails to compile ("No such file or directory").

# lensflow_include_dir(target folder): the include directory exposing <repo>/<folder> as
# "<folder>/..." (created at configure time).
function(lensflow_include_dir var target folder)
  set(inc ${CMAKE_BINARY_DIR}/include/${target})
  file(MAKE_DIRECTORY ${inc})
  file(CREATE_LINK ${CMAKE_SOURCE_DIR}/${folder} ${inc}/${folder} SYMBOLIC)
  set(${var} ${inc} PARENT_SCOPE)
endfunction()

# lensflow_module(NAME dir DEPS ...): a static library from every dir/*.cpp (and dir/*.cu when the
# CUDA backend is built), including "dir/..." and what DEPS expose. Files are globbed so that
# adding a source needs no CMake edit.
function(lensflow_module name dir)
  cmake_parse_arguments(M "" "" "DEPS" ${ARGN})
  file(GLOB cpp_sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/${dir}/*.cpp)
  set(sources ${cpp_sources})
  if(LENSFLOW_HAVE_CUDA)
    file(GLOB cu_sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/${dir}/*.cu)
    list(APPEND sources ${cu_sources})
  endif()
  add_library(${name} STATIC ${sources})
  add_library(lensflow::${name} ALIAS ${name})
  lensflow_include_dir(inc ${name} ${dir})
  target_include_directories(${name} PUBLIC $<BUILD_INTERFACE:${inc}> $<INSTALL_INTERFACE:include/lensflow>)
  target_link_libraries(${name} PUBLIC Threads::Threads ${M_DEPS})
  target_compile_options(${name} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -O3>
    $<$<COMPILE_LANGUAGE:CUDA>:-O3 --expt-relaxed-constexpr -lineinfo>)
  if(LENSFLOW_HAVE_CUDA)
    target_compile_definitions(${name} PUBLIC LENSFLOW_HAVE_CUDA=1)
    target_link_libraries(${name} PUBLIC CUDA::cudart)
  else()
    target_compile_definitions(${name} PUBLIC LENSFLOW_HAVE_CUDA=0)
  endif()
endfunction()

# lensflow_tests(dir LIBS ...): one GoogleTest executable per tests/dir/*_test.cpp, registered with
# CTest. A test sees the folders of LIBS and tests/ (shared test helpers: "tests/...").
function(lensflow_tests dir)
  cmake_parse_arguments(T "" "" "LIBS" ${ARGN})
  file(GLOB tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${dir}/*_test.cpp)
  foreach(src ${tests})
    get_filename_component(stem ${src} NAME_WE)
    set(exe test_${dir}_${stem})
    add_executable(${exe} ${src})
    target_link_libraries(${exe} PRIVATE ${T_LIBS} lensflow_test_support GTest::gtest_main)
    target_compile_definitions(${exe} PRIVATE
      LENSFLOW_TEST_DATA="${CMAKE_SOURCE_DIR}/tests/data"
      LENSFLOW_BINARY_DIR="${CMAKE_BINARY_DIR}")
    gtest_discover_tests(${exe} DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60
      WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  endforeach()
endfunction()
