# Course.cmake - helpers that stage course data into the build tree (TT_SHARE_DIR), mirroring the
# install layout so build/bin/tito finds everything at ../share/tinytorch exactly as an installed
# tito does.

# The engine modules that have reference code: the folders engine/src/NN_name.
file(GLOB _tt_module_dirs LIST_DIRECTORIES true ${CMAKE_SOURCE_DIR}/engine/src/[0-9][0-9]_*)
set(TT_ENGINE_MODULES "")
foreach(_dir IN LISTS _tt_module_dirs)
  if(IS_DIRECTORY ${_dir})
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
