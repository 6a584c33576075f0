# Course.cmake - helpers that stage course data into the build tree (TT_SHARE_DIR), mirroring the
# install layout so build/bin/tito finds everything at ../share/tinytorch exactly as an installed
# tito does.

# The engine modules that have reference code: the folders engine/src/NN_name.
file(GLOB _tt_module_dirs LIST_DIRECTORIES true ${CMAKE_SOURCE_DIR}/engine/src/[0-9][0-9]_*)
set(TT_ENGINE_MODULES "")
foreach(_dir IN LISTS _tt_module_dirs)
  file(GLOB _sources ${_dir}/*.cpp)
  if(IS_DIRECTORY ${_dir} AND _sources)  # a module folder still being written has no sources yet
    get_filename_component(_name ${_dir} NAME)
    list(APPEND TT_ENGINE_MODULES ${_name})
  endif()
endforeach()
list(SORT TT_ENGINE_MODULES)

# tt_stage_files(<target> <destination dir> <files...>)
# Copies files into the staged share folder whenever they change; <target> builds them (ALL).
function(tt_stage_files target destination)
  set(outputs "")
  foreach(source IN LISTS ARGN)
    get_filename_component(name ${source} NAME)
    set(output ${destination}/${name})
    add_custom_command(OUTPUT ${output}
      COMMAND ${CMAKE_COMMAND} -E copy_if_different ${source} ${output}
      DEPENDS ${source}
      COMMENT "Staging ${name}" VERBATIM)
    list(APPEND outputs ${output})
  endforeach()
  add_custom_target(${target} ALL DEPENDS ${outputs})
  tt_course_target(${target})
endfunction()

# tt_course_target(<targets...>): marks targets as part of what tito needs at run time; the
# `course` target builds all of them (and tito) and nothing else - what scripts/setup.sh builds.
function(tt_course_target)
  set_property(GLOBAL APPEND PROPERTY TT_COURSE_TARGETS ${ARGN})
endfunction()

# tt_link_engine(<target> <PRIVATE|INTERFACE>): links the reference engine, every module's library,
# with the linker rescanning the group (modules call each other: 02's ops create 06's nodes).
function(tt_link_engine target scope)
  set(libs tt_core)
  foreach(module IN LISTS TT_ENGINE_MODULES)
    list(APPEND libs tt_${module})
  endforeach()
  list(JOIN libs "," joined)
  target_link_libraries(${target} ${scope} "$<LINK_GROUP:RESCAN,${joined}>" Threads::Threads)
endfunction()

# tt_test_code(<target> [headers...]): settings for Catch2 test code - the graders and the
# project's own tests. Test code is compiled at -O0: it checks small cases, so optimising it buys
# nothing at run time and costs most of the build (Catch2's assertion macros expand into a lot of
# code, and -O3 on a grader file takes ~4x as long as -O0). The engine those tests exercise keeps
# the build type's optimisation. Catch2 and the given headers are precompiled once per target.
function(tt_test_code target)
  target_compile_options(${target} PRIVATE -O0)
  target_precompile_headers(${target} PRIVATE <catch2/catch.hpp> ${ARGN})
endfunction()
