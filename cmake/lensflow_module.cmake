# lensflow_module(NAME dir DEPS ...): a static library from every dir/*.cpp (and dir/*.cu when the
# CUDA backend is built). Files are globbed so that adding a source needs no CMake edit.
function(lensflow_module name dir)
  cmake_parse_arguments(M "" "" "DEPS" ${ARGN})
  file(GLOB cpp_sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/${dir}/*.cpp)
  set(sources ${cpp_sources})
  if(LENSFLOW_HAVE_CUDA)
    file(GLOB cu_sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/${dir}/*.cu)
    list(APPEND sources ${cu_sources})
  endif()
  if(NOT sources)  # a module not written yet still configures
    file(WRITE ${CMAKE_BINARY_DIR}/empty_${name}.cpp "")
    set(sources ${CMAKE_BINARY_DIR}/empty_${name}.cpp)
  endif()
  add_library(${name} STATIC ${sources})
  add_library(lensflow::${name} ALIAS ${name})
  target_include_directories(${name} PUBLIC
    $<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}> $<INSTALL_INTERFACE:include/lensflow>)
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

# lensflow_tests(dir LIBS ...): one GoogleTest executable per dir/*_test.cpp, registered with CTest.
function(lensflow_tests dir)
  cmake_parse_arguments(T "" "" "LIBS" ${ARGN})
  file(GLOB tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${dir}/*_test.cpp)
  foreach(src ${tests})
    get_filename_component(stem ${src} NAME_WE)
    set(exe test_${dir}_${stem})
    add_executable(${exe} ${src})
    target_link_libraries(${exe} PRIVATE ${T_LIBS} GTest::gtest_main)
    target_compile_definitions(${exe} PRIVATE
      LENSFLOW_TEST_DATA="${CMAKE_SOURCE_DIR}/tests/data"
      LENSFLOW_BINARY_DIR="${CMAKE_BINARY_DIR}")
    gtest_discover_tests(${exe} DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60
      WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  endforeach()
endfunction()
