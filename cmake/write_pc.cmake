# write_pc.cmake — run by `cmake --install` (see CMakeLists.txt, Install): writes
# trawl.pc from trawl.pc.in for the prefix actually installed into.
# In: CMAKE_INSTALL_PREFIX (the install's --prefix), TRAWL_PC_LIBDIR and
# TRAWL_PC_INCLUDEDIR (relative to the prefix, or absolute), TRAWL_PC_VERSION,
# TRAWL_PC_IN, TRAWL_PC_OUT.
set(TRAWL_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
foreach(dir LIBDIR INCLUDEDIR)
  if(NOT IS_ABSOLUTE "${TRAWL_PC_${dir}}")
    set(TRAWL_PC_${dir} "\${prefix}/${TRAWL_PC_${dir}}")
  endif()
endforeach()
configure_file("${TRAWL_PC_IN}" "${TRAWL_PC_OUT}" @ONLY)
